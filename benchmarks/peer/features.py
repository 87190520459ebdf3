"""The peer's pandas feature engineering, shared by train.py and app.py as the seed projects did it:
derived columns on a DataFrame, employment one-hot encoded with get_dummies."""

from __future__ import annotations

import numpy as np
import pandas as pd

NUMERIC_COLUMNS = [
    "age", "income", "credit_score", "monthly_spending", "savings_balance", "loan_amount",
    "digital_engagement", "spending_score", "saving_frequency", "loan_behavior",
]
DERIVED_COLUMNS = [
    "financial_health_score", "income_tier_code", "income_to_spending_ratio", "savings_capacity",
    "debt_to_income_ratio", "digital_adoption_score",
]
INCOME_TIERS = ["low", "medium", "high"]
DIGITAL_SERVICES = {"basic_mobile_banking", "premium_digital_banking", "investment_platform", "budgeting_tools"}
CATEGORIES = ["account", "savings", "loan", "digital_service"]


def engineer(frame: pd.DataFrame) -> pd.DataFrame:
    """FRAME with the derived columns and employment dummies added; existing_products holds lists."""
    frame = frame.copy()
    income = frame["income"].astype(float)
    spending = frame["monthly_spending"].astype(float)
    # A zero income would divide by zero: such a customer is treated as spending all they have.
    spent_share = (12 * spending / income.where(income > 0)).fillna(1.0)
    frame["financial_health_score"] = 100 * (
        0.40 * np.minimum(income / 150_000, 1)
        + 0.25 * np.clip((frame["credit_score"] - 300) / 550, 0, 1)
        + 0.20 * np.minimum(frame["savings_balance"] / 50_000, 1)
        + 0.15 * (1 - np.minimum(spent_share, 1))
    )
    frame["income_tier"] = np.select([income < 30_000, income <= 70_000], ["low", "medium"], "high")
    frame["income_tier_code"] = frame["income_tier"].map({tier: code for code, tier in enumerate(INCOME_TIERS)})
    frame["income_to_spending_ratio"] = (income / 12 / spending.where(spending > 0)).fillna(10.0).clip(upper=10.0)
    frame["savings_capacity"] = (1 - spent_share).clip(-1.0, 1.0)
    frame["debt_to_income_ratio"] = (frame["loan_amount"] / income.where(income > 0)).fillna(10.0).clip(upper=10.0)
    digital_held = frame["existing_products"].apply(lambda held: min(len(DIGITAL_SERVICES.intersection(held)), 2))
    frame["digital_adoption_score"] = 0.8 * frame["digital_engagement"] / 10 + 0.2 * digital_held / 2
    dummies = pd.get_dummies(frame["employment_status"], prefix="employment", dtype=float)
    return pd.concat([frame, dummies], axis=1)


def feature_matrix(frame: pd.DataFrame, feature_columns: list[str]) -> pd.DataFrame:
    """The model input of an engineered FRAME: a dummy the training data never saw is dropped, one it
    saw but this frame lacks is 0."""
    return frame.reindex(columns=feature_columns, fill_value=0.0).astype(float)
