"""The recommend feature module: the one place customer profiles become model inputs.

Every path computes features with FEATURE_SET.matrix over the profiles' columns (one array per
field): the API for one profile, batch files and training for many. numpy only, no pandas.

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

from typing import Any, Mapping, Sequence

import numpy as np

from finscore.models.manifest import FeatureSpec
from finscore.products.columns import as_matrix, columns_of
from finscore.products.recommend.catalog import DIGITAL_SERVICES, EMPLOYMENT_STATUSES, PRODUCT_INDEX, holdings

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
DIGITAL_COLUMNS = sorted(PRODUCT_INDEX[product] for product in DIGITAL_SERVICES)
_STATUS_COLUMN = np.array(EMPLOYMENT_STATUSES, dtype=object)[:, np.newaxis]


def _capped_ratios(numerator: np.ndarray, denominator: np.ndarray, cap: float) -> np.ndarray:
    """numerator / denominator capped at CAP; a zero denominator gives CAP if there is a numerator, else 0."""
    ratio = np.divide(numerator, denominator, out=np.where(numerator > 0, cap, 0.0), where=denominator > 0)
    return np.minimum(ratio, cap, out=ratio)


def health_scores(income: np.ndarray, credit_score: np.ndarray, savings_balance: np.ndarray,
                  monthly_spending: np.ndarray) -> np.ndarray:
    """The 0-100 health score of the module docstring (unrounded), per row."""
    return _health(income, credit_score, savings_balance, _capped_ratios(12.0 * monthly_spending, income, 1.0))


def _health(income: np.ndarray, credit_score: np.ndarray, savings_balance: np.ndarray,
            spent_share: np.ndarray) -> np.ndarray:
    # SPENT_SHARE: 12 x monthly spending / income, capped at 1.
    income_part = np.minimum(income / INCOME_CAP, 1.0)
    credit_part = np.clip((credit_score - CREDIT_MIN) / (CREDIT_MAX - CREDIT_MIN), 0.0, 1.0)
    savings_part = np.minimum(savings_balance / SAVINGS_CAP, 1.0)
    return 100.0 * (0.40 * income_part + 0.25 * credit_part + 0.20 * savings_part + 0.15 * (1.0 - spent_share))


def financial_health_score(income: float, credit_score: float, savings_balance: float, monthly_spending: float) -> float:
    """One profile's health score."""
    return float(health_scores(*(np.array([float(value)]) for value in
                                 (income, credit_score, savings_balance, monthly_spending)))[0])


def income_tier_indexes(income: np.ndarray) -> np.ndarray:
    """0 low (below 30,000), 1 medium (30,000 to 70,000 inclusive), 2 high (above 70,000), per row."""
    return np.where(income < LOW_INCOME_BELOW, 0, np.where(income > HIGH_INCOME_ABOVE, 2, 1))


def income_tier(income: float) -> str:
    return INCOME_TIERS[int(income_tier_indexes(np.array([float(income)]))[0])]


def profile_matrix(columns: Mapping[str, Any]) -> np.ndarray:
    """The float32 model input of every profile in COLUMNS (one array per profile field), vectorised.

    Written with few numpy operations, each over whole columns: the API scores one profile at a time,
    where every operation costs its fixed overhead, and batch files a million, where none may loop."""

    def number(name: str) -> np.ndarray:
        return np.asarray(columns[name], dtype=np.float64)

    income = number("income")
    count = len(income)
    spending = number("monthly_spending")
    savings = number("savings_balance")
    loan = number("loan_amount")
    credit = number("credit_score")
    engagement = number("digital_engagement")
    status = np.asarray(columns["employment_status"], dtype=object)
    held = holdings(columns.get("existing_products"), count)
    digital_held = np.minimum(held[:, DIGITAL_COLUMNS].sum(axis=1), DIGITAL_SERVICES_CAP)
    # 12 x monthly spending / income capped at 2: savings capacity is 1 minus it, and the health
    # score's spending part 1 minus it capped at 1.
    spent_share = _capped_ratios(12.0 * spending, income, 2.0)

    columns = [
        number("age"),
        np.log1p(income),
        credit,
        np.log1p(spending),
        np.log1p(savings),
        np.log1p(loan),
        engagement,
        number("spending_score"),
        number("saving_frequency"),
        number("loan_behavior"),
        *(status == _STATUS_COLUMN),  # one indicator row per employment status
        _health(income, credit, savings, np.minimum(spent_share, 1.0)),
        income_tier_indexes(income),
        _capped_ratios(income / 12.0, spending, RATIO_CAP),
        1.0 - spent_share,
        _capped_ratios(loan, income, RATIO_CAP),
        0.08 * engagement + (0.2 / DIGITAL_SERVICES_CAP) * digital_held,
    ]
    return as_matrix(columns, count)


class ProfileFeatures:
    """The recommend FeatureSet."""

    specs = FEATURES
    matrix = staticmethod(profile_matrix)


FEATURE_SET = ProfileFeatures()
PROFILE_FIELDS = (
    "age", "income", "employment_status", "credit_score", "existing_products", "monthly_spending", "savings_balance",
    "loan_amount", "digital_engagement", "spending_score", "saving_frequency", "loan_behavior",
)


def feature_matrix(profiles: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Many profiles (dicts) at once: training's and the promotion gate's convenience over FEATURE_SET."""
    return profile_matrix(columns_of(profiles, PROFILE_FIELDS))
