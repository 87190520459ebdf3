"""Reason codes: what a risk feature says about a customer, as a true statement about them.

A reason compares the customer's value of its feature with a reference: a value its text implies
(no failed auto-debit, a steady inflow ratio of 1, a balance that did not move) or, for features
without a natural zero, the training population's median (published in the manifest as
reason_references). DIRECTION says which side is adverse (+1: above the reference, -1: below). An
explanation cites a reason only when the model's contribution raises the risk AND the value lies on
the adverse side, and its text is rendered from the value and the reference, so it is a statement
about this customer that holds ("3 auto-debits failed in the last 92 days").

Training constrains the models to be monotone in each direction, so a feature's adverse SHAP
contribution agrees with its text. A feature without a reason (has_credit_limit) is unconstrained
and never cited. Pure data: serving, explanations and the API import it freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

MEDIAN = None  # the reference is the training population's median


def _times(count: float, one: str, many: str) -> str:
    return f"{count:.0f} {one if round(count) == 1 else many}"


@dataclass(frozen=True)
class Reason:
    code: str
    direction: int  # +1: values above the reference raise the risk; -1: values below it do
    reference: float | None  # the value the text compares with; MEDIAN: the training median
    render: Callable[[float, float], str]  # (value, reference) -> the statement
    summary: str  # what the reason is about, for documentation
    # A further condition for the statement to hold, on the customer's features and the references.
    holds: Callable[[Mapping[str, float], Mapping[str, float]], bool] = field(default=lambda features, references: True)

    def adverse(self, value: float, reference: float) -> bool:
        return value > reference if self.direction > 0 else value < reference


REASONS: dict[str, Reason] = {
    "salary_delay_days": Reason(
        "R01", +1, 0.0, lambda v, r: f"Salary arrived {v:.1f} days late on average in the last 92 days",
        "Salary has arrived late"),
    "salary_missed_months": Reason(
        "R02", +1, 0.0,
        lambda v, r: f"{_times(v, 'expected monthly salary has', 'expected monthly salaries have')} not arrived "
                     "in the last 92 days",
        "An expected monthly salary has not arrived"),
    # Not having a salary is no risk in itself: a self-employed customer with a regular income has
    # none. The reason needs irregular inflows too.
    "salaried": Reason(
        "R03", -1, 1.0,
        lambda v, r: "No salary was credited in the last 180 days and money coming in is irregular",
        "No salary and irregular income",
        holds=lambda features, references: "income_volatility" in references
        and features["income_volatility"] > references["income_volatility"]),
    "income_volatility": Reason(
        "R04", +1, MEDIAN,
        lambda v, r: f"Money coming in varies by {v:.0%} from month to month (typical: {r:.0%})",
        "Money coming in varies a lot from month to month"),
    "inflow_ratio_recent": Reason(
        "R05", -1, 1.0,
        lambda v, r: f"Money coming in over the last two months is {r - v:.0%} lower than in the three before",
        "Money coming in has dropped"),
    "balance_trend": Reason(
        "R06", -1, 0.0,
        lambda v, r: f"The average balance fell by {-v:.1f} months of income compared with 3 to 6 months ago",
        "The account balance has been falling"),
    "low_balance_share": Reason(
        "R07", +1, MEDIAN,
        lambda v, r: f"The balance was below 10% of monthly income after {v:.0%} of transactions in the last 92 days "
                     f"(typical: {r:.0%})",
        "The balance has often been very low or overdrawn"),
    "discretionary_share": Reason(
        "R08", +1, MEDIAN,
        lambda v, r: f"Dining, shopping and travel took {v:.0%} of spending in the last 92 days (typical: {r:.0%})",
        "A large share of spending goes on dining, shopping and travel"),
    "spending_volatility": Reason(
        "R09", +1, MEDIAN,
        lambda v, r: f"Spending varies by {v:.0%} from month to month (typical: {r:.0%})",
        "Spending swings sharply from month to month"),
    "spend_to_income": Reason(
        "R10", +1, MEDIAN,
        lambda v, r: f"Spending in the last 92 days was {v:.0%} of income (typical: {r:.0%})",
        "Spending is high compared with income"),
    "cash_withdrawal_share": Reason(
        "R11", +1, MEDIAN,
        lambda v, r: f"{v:.0%} of spending in the last 92 days was taken out as cash (typical: {r:.0%})",
        "A large share of spending is taken out as cash"),
    "lending_app_txns_90d": Reason(
        "R12", +1, 0.0,
        lambda v, r: f"{_times(v, 'transfer', 'transfers')} with digital lending apps in the last 92 days",
        "Transfers with digital lending apps"),
    "lending_app_inflow_to_income": Reason(
        "R13", +1, 0.0,
        lambda v, r: f"Money borrowed from lending apps in the last 92 days came to {v:.0%} of monthly income",
        "Money borrowed from lending apps"),
    # Only a customer who has a credit limit can be using it.
    "credit_utilisation": Reason(
        "R14", +1, 0.5,
        lambda v, r: f"{v:.0%} of the credit limit was in use in the last 30 days",
        "Most of the credit limit is in use",
        holds=lambda features, references: features.get("has_credit_limit") == 1.0),
    "emi_to_income": Reason(
        "R15", +1, MEDIAN,
        lambda v, r: f"The largest loan instalment (EMI) is {v:.0%} of monthly income (typical: {r:.0%})",
        "Loan instalments take a large share of income"),
    "failed_auto_debits_90d": Reason(
        "R16", +1, 0.0,
        lambda v, r: f"{_times(v, 'auto-debit', 'auto-debits')} failed in the last 92 days",
        "Auto-debits failed"),
    "late_emi_payments_90d": Reason(
        "R17", +1, 0.0,
        lambda v, r: f"{_times(v, 'loan instalment (EMI) was', 'loan instalments (EMIs) were')} paid late in the "
                     "last 92 days",
        "Loan instalments paid late"),
    "missed_emi_months_90d": Reason(
        "R18", +1, 0.0,
        lambda v, r: f"{_times(v, 'monthly loan instalment (EMI) was', 'monthly loan instalments (EMIs) were')} "
                     "missed in the last 92 days",
        "A loan instalment was missed"),
    "tenure_months": Reason(
        "R19", -1, MEDIAN,
        lambda v, r: f"The banking relationship is {v:.0f} months old (typical: {r:.0f})",
        "The banking relationship is recent"),
}


def direction(feature: str) -> int:
    """The monotone direction a model is constrained to for FEATURE (0: none, a feature without a reason)."""
    reason = REASONS.get(feature)
    return reason.direction if reason else 0


def reference_of(feature: str, medians: Mapping[str, float]) -> float | None:
    """The value FEATURE's reason compares with: its own, or the training median (None if unknown)."""
    reason = REASONS[feature]
    return reason.reference if reason.reference is not MEDIAN else medians.get(feature)


def references(medians: Mapping[str, float]) -> dict[str, float]:
    """Every reason's reference, given the training MEDIANS."""
    found = {feature: reference_of(feature, medians) for feature in REASONS}
    return {feature: value for feature, value in found.items() if value is not None}
