"""Reason codes: one per risk feature, with the plain-language text a customer or officer reads.

DIRECTION says which way a feature raises risk (+1: higher values, -1: lower values). Training
constrains the models to be monotone in these directions, so a feature's adverse SHAP contribution
always means what its text says (a long tenure can never be the reason a score went up).
Pure data: serving, explanations and the API import it freely.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    direction: int


REASONS: dict[str, Reason] = {
    "salary_delay_days": Reason("R01", "Salary has arrived late in recent months", +1),
    "salary_missed_months": Reason("R02", "An expected monthly salary credit has not arrived recently", +1),
    "salaried": Reason("R03", "No regular salary is credited to the account", -1),
    "income_volatility": Reason("R04", "Money coming in varies a lot from month to month", +1),
    "inflow_ratio_recent": Reason("R05", "Money coming into the account has dropped in the last two months", -1),
    "balance_trend": Reason("R06", "The account balance has been falling", -1),
    "low_balance_share": Reason("R07", "The balance has often been very low or overdrawn", +1),
    "discretionary_share": Reason("R08", "A large share of spending goes on dining, shopping and travel", +1),
    "spending_volatility": Reason("R09", "Spending swings sharply from month to month", +1),
    "spend_to_income": Reason("R10", "Spending is high compared with income", +1),
    "cash_withdrawal_share": Reason("R11", "A large share of spending is taken out as cash", +1),
    "lending_app_txns_90d": Reason("R12", "Frequent transfers with digital lending apps in the last 90 days", +1),
    "lending_app_inflow_to_income": Reason("R13", "Money borrowed from lending apps is high compared with income", +1),
    "credit_utilisation": Reason("R14", "Most of the credit limit is in use", +1),
    "emi_to_income": Reason("R15", "Loan instalments (EMIs) take a large share of income", +1),
    "failed_auto_debits_90d": Reason("R16", "Several auto-debits failed in the last 90 days", +1),
    "late_emi_payments_90d": Reason("R17", "Loan instalments (EMIs) have been paid late in the last 90 days", +1),
    "missed_emi_months_90d": Reason("R18", "A loan instalment (EMI) was missed in the last 90 days", +1),
    "tenure_months": Reason("R19", "The banking relationship is recent", -1),
}


def reason_for(feature: str) -> Reason:
    return REASONS[feature]
