"""The recommend feature module: the one place customer profiles become model inputs.

Training and batch scoring call `feature_matrix` on many profiles; the API calls `profile_features`
on one. Both compute the same formulas (tests hold them equal row for row) from plain dicts, so
serving needs neither pandas nor a second copy of the feature logic.

Derived values and their normalisations:

- financial_health_score, 0-100 = 100 x (0.40 income + 0.25 credit + 0.20 savings + 0.15 spending):
  income  = annual income / 150,000, capped at 1 (above that, more income adds no health);
  credit  = (credit_score - 300) / 550, the FICO range mapped to 0-1;
  savings = savings_balance / 50,000, capped at 1 (about half a year of a high income);
  spending = 1 - share of income spent (12 x monthly_spending / income, capped at 1): spending
  less is healthier; with no income any spending counts as spending it all.
- income_tier: low below 30,000; medium from 30,000 to 70,000 inclusive; high above 70,000.
- income_to_spending_ratio: monthly income / monthly spending, capped at 10 (no spending gives 10).
- savings_capacity: 1 - 12 x monthly_spending / income, the share of income left after spending,
  in [-1, 1] (no income with spending gives -1).
- debt_to_income_ratio: loan_amount / annual income, capped at 10 (no income with a loan gives 10).
- digital_adoption_score, 0-1: 0.8 x digital_engagement / 10 + 0.2 x digital services held (up to 2) / 2.

Monetary inputs enter the model as log1p: incomes and balances are log-normal, and on a log scale
the K-Means distances reflect relative, not absolute, differences. Decision trees are unaffected.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from finscore.models.manifest import FeatureSpec
from finscore.recommend.catalog import DIGITAL_SERVICES, EMPLOYMENT_STATUSES

INCOME_CAP = 150_000.0
SAVINGS_CAP = 50_000.0
CREDIT_MIN, CREDIT_MAX = 300.0, 850.0
RATIO_CAP = 10.0
DIGITAL_SERVICES_CAP = 2
LOW_INCOME_BELOW = 30_000.0
HIGH_INCOME_ABOVE = 70_000.0
INCOME_TIERS = ("low", "medium", "high")

FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(name="age", type="int", description="Age in years"),
    FeatureSpec(name="log_income", type="float", description="log1p of annual income"),
    FeatureSpec(name="credit_score", type="int", description="Credit score, 300-850"),
    FeatureSpec(name="log_monthly_spending", type="float", description="log1p of monthly spending"),
    FeatureSpec(name="log_savings_balance", type="float", description="log1p of savings balance"),
    FeatureSpec(name="log_loan_amount", type="float", description="log1p of outstanding loan amount"),
    FeatureSpec(name="digital_engagement", type="float", description="Digital engagement, 0-10"),
    FeatureSpec(name="spending_score", type="float", description="Spending propensity, 0-100"),
    FeatureSpec(name="saving_frequency", type="int", description="Saving events per month, 0-10"),
    FeatureSpec(name="loan_behavior", type="int", description="Loan behaviour, 0 none .. 5 heavy or late"),
    *(
        FeatureSpec(name=f"employment_{status}", type="bool", description=f"1 when employment_status is {status}")
        for status in EMPLOYMENT_STATUSES
    ),
    FeatureSpec(name="financial_health_score", type="float", description="Weighted health score, 0-100"),
    FeatureSpec(
        name="income_tier",
        type="category",
        description="Income tier as its index in categories (<30k low, 30-70k medium, >70k high)",
        categories=list(INCOME_TIERS),
    ),
    FeatureSpec(name="income_to_spending_ratio", type="float", description="Monthly income / monthly spending, capped at 10"),
    FeatureSpec(name="savings_capacity", type="float", description="Share of income left after spending, -1..1"),
    FeatureSpec(name="debt_to_income_ratio", type="float", description="Loan amount / annual income, capped at 10"),
    FeatureSpec(name="digital_adoption_score", type="float", description="Engagement and digital services held, 0-1"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)


class ProfileFeatures(NamedTuple):
    """One profile's model input row and the derived values the API reports."""

    row: np.ndarray  # shape (1, len(FEATURES)), float32
    financial_health_score: float
    income_tier: str


def _capped_ratio(numerator: float, denominator: float, cap: float) -> float:
    """numerator / denominator capped at CAP; a zero denominator gives CAP if there is a numerator, else 0."""
    if denominator > 0:
        return min(numerator / denominator, cap)
    return cap if numerator > 0 else 0.0


def _capped_ratios(numerator: np.ndarray, denominator: np.ndarray, cap: float) -> np.ndarray:
    positive = denominator > 0
    ratio = numerator / np.where(positive, denominator, 1.0)
    return np.where(positive, np.minimum(ratio, cap), np.where(numerator > 0, cap, 0.0))


def financial_health_score(income: float, credit_score: float, savings_balance: float, monthly_spending: float) -> float:
    """The 0-100 health score of the module docstring (unrounded)."""
    income_part = min(income / INCOME_CAP, 1.0)
    credit_part = min(max((credit_score - CREDIT_MIN) / (CREDIT_MAX - CREDIT_MIN), 0.0), 1.0)
    savings_part = min(savings_balance / SAVINGS_CAP, 1.0)
    spending_part = 1.0 - _capped_ratio(12.0 * monthly_spending, income, 1.0)
    return 100.0 * (0.40 * income_part + 0.25 * credit_part + 0.20 * savings_part + 0.15 * spending_part)


def income_tier_index(income: float) -> int:
    if income < LOW_INCOME_BELOW:
        return 0
    return 2 if income > HIGH_INCOME_ABOVE else 1


def income_tier(income: float) -> str:
    return INCOME_TIERS[income_tier_index(income)]


def profile_features(profile: Mapping[str, Any]) -> ProfileFeatures:
    """The serving path: one profile, plain Python arithmetic, one small array at the end."""
    income = float(profile["income"])
    spending = float(profile["monthly_spending"])
    savings = float(profile["savings_balance"])
    loan = float(profile["loan_amount"])
    credit = float(profile["credit_score"])
    engagement = float(profile["digital_engagement"])
    status = profile["employment_status"]
    digital_held = min(sum(1 for product in set(profile.get("existing_products") or ()) if product in DIGITAL_SERVICES),
                       DIGITAL_SERVICES_CAP)
    health = financial_health_score(income, credit, savings, spending)
    tier = income_tier_index(income)
    row = np.array(
        [[
            float(profile["age"]),
            math.log1p(income),
            credit,
            math.log1p(spending),
            math.log1p(savings),
            math.log1p(loan),
            engagement,
            float(profile["spending_score"]),
            float(profile["saving_frequency"]),
            float(profile["loan_behavior"]),
            *(1.0 if status == candidate else 0.0 for candidate in EMPLOYMENT_STATUSES),
            health,
            float(tier),
            _capped_ratio(income / 12.0, spending, RATIO_CAP),
            1.0 - _capped_ratio(12.0 * spending, income, 2.0),
            _capped_ratio(loan, income, RATIO_CAP),
            0.8 * engagement / 10.0 + 0.2 * digital_held / DIGITAL_SERVICES_CAP,
        ]],
        dtype=np.float32,
    )
    return ProfileFeatures(row, health, INCOME_TIERS[tier])


def _column(profiles: Sequence[Mapping[str, Any]], name: str) -> np.ndarray:
    return np.fromiter((profile[name] for profile in profiles), dtype=np.float64, count=len(profiles))


def feature_matrix(profiles: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Training and batch path: the float32 model input of many profiles, one row each, vectorised."""
    count = len(profiles)
    income = _column(profiles, "income")
    spending = _column(profiles, "monthly_spending")
    savings = _column(profiles, "savings_balance")
    loan = _column(profiles, "loan_amount")
    credit = _column(profiles, "credit_score")
    engagement = _column(profiles, "digital_engagement")
    status = np.array([profile["employment_status"] for profile in profiles], dtype=object)
    digital_held = np.fromiter(
        (len(set(profile.get("existing_products") or ()) & DIGITAL_SERVICES) for profile in profiles),
        dtype=np.float64,
        count=count,
    )
    digital_held = np.minimum(digital_held, DIGITAL_SERVICES_CAP)

    income_part = np.minimum(income / INCOME_CAP, 1.0)
    credit_part = np.clip((credit - CREDIT_MIN) / (CREDIT_MAX - CREDIT_MIN), 0.0, 1.0)
    savings_part = np.minimum(savings / SAVINGS_CAP, 1.0)
    spending_part = 1.0 - _capped_ratios(12.0 * spending, income, 1.0)
    health = 100.0 * (0.40 * income_part + 0.25 * credit_part + 0.20 * savings_part + 0.15 * spending_part)
    tier = np.where(income < LOW_INCOME_BELOW, 0.0, np.where(income > HIGH_INCOME_ABOVE, 2.0, 1.0))

    columns = [
        _column(profiles, "age"),
        np.log1p(income),
        credit,
        np.log1p(spending),
        np.log1p(savings),
        np.log1p(loan),
        engagement,
        _column(profiles, "spending_score"),
        _column(profiles, "saving_frequency"),
        _column(profiles, "loan_behavior"),
        *((status == candidate).astype(np.float64) for candidate in EMPLOYMENT_STATUSES),
        health,
        tier,
        _capped_ratios(income / 12.0, spending, RATIO_CAP),
        1.0 - _capped_ratios(12.0 * spending, income, 2.0),
        _capped_ratios(loan, income, RATIO_CAP),
        0.8 * engagement / 10.0 + 0.2 * digital_held / DIGITAL_SERVICES_CAP,
    ]
    matrix = np.empty((count, len(FEATURES)), dtype=np.float32)
    for index, column in enumerate(columns):
        matrix[:, index] = column
    return matrix
