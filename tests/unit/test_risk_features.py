"""The risk feature module on hand-built transaction histories whose features are known."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from finscore.errors import ValidationFailed
from finscore.products.risk.features import FEATURE_NAMES, FEATURES, compute_features, feature_matrix, feature_vector
from finscore.products.risk.reasons import REASONS

CUSTOMER = {"customer_id": "C1", "monthly_income": 50_000.0, "credit_limit": 100_000.0, "opened_at": "2020-06-30"}
AS_OF = date(2025, 6, 30)


def txn(day: str, amount: float, direction: str, category: str, channel: str = "upi", balance: float = 20_000.0):
    return {"txn_id": f"{day}-{category}", "customer_id": "C1", "date": day, "amount": amount, "direction": direction,
            "category": category, "channel": channel, "balance_after": balance}


def history() -> list[dict]:
    """Salary on the 1st (May's a week late), an EMI due on the 5th (May paid late by hand, June bounced
    and unpaid), a lending-app loan repaid, and some spending."""
    salaries = [txn(day, 50_000, "credit", "salary", "netbanking")
                for day in ("2025-02-01", "2025-03-01", "2025-04-01", "2025-05-08", "2025-06-01")]
    emis = [txn(day, 10_000, "debit", "emi_payment", "auto_debit") for day in ("2025-02-05", "2025-03-05", "2025-04-05")]
    emis += [
        txn("2025-05-05", 10_000, "debit", "auto_debit_failed", "auto_debit"),
        txn("2025-05-12", 10_000, "debit", "emi_payment", "netbanking"),
        txn("2025-06-05", 10_000, "debit", "auto_debit_failed", "auto_debit"),
    ]
    other = [
        txn("2025-06-10", 5_000, "credit", "lending_app_transfer"),
        txn("2025-06-25", 5_500, "debit", "lending_app_transfer"),
        txn("2025-06-15", 2_000, "debit", "dining", "card"),
        txn("2025-05-20", 3_000, "debit", "shopping", "card"),
        txn("2025-04-10", 5_000, "debit", "groceries"),
        txn("2025-06-20", 4_000, "debit", "atm_withdrawal", "atm"),
    ]
    return salaries + emis + other


def test_known_values_of_a_hand_built_history():
    features = compute_features(CUSTOMER, history(), AS_OF)
    assert set(features) == set(FEATURE_NAMES)
    debits = 10_000 + 10_000 + 5_500 + 2_000 + 3_000 + 5_000 + 4_000  # last 92 days, bounced EMIs excluded
    expected = {
        "salary_delay_days": 7 / 3,  # Apr 1, May 8, Jun 1 against payday 1
        "salary_missed_months": 0,
        "salaried": 1,
        "income_volatility": 0.0,  # one salary per payday-aligned bucket, even the late one
        "inflow_ratio_recent": 1.0,
        "discretionary_share": 5_000 / debits,
        "spend_to_income": debits / 150_000,
        "cash_withdrawal_share": 4_000 / debits,
        "lending_app_txns_90d": 2,
        "lending_app_inflow_to_income": 0.1,
        "credit_utilisation": 2_000 / 100_000,  # June card spending, no overdraft
        "emi_to_income": 0.2,
        "failed_auto_debits_90d": 2,
        "late_emi_payments_90d": 1,  # May 12 against due day 5
        "missed_emi_months_90d": 1,  # June
        "tenure_months": (AS_OF - date(2020, 6, 30)).days / 30.4,
    }
    for name, value in expected.items():
        assert features[name] == pytest.approx(value), name


def test_balance_features():
    transactions = [
        txn("2025-03-02", 1_000, "debit", "groceries", balance=10_000),  # 120 days before: the early window
        txn("2025-03-22", 1_000, "debit", "groceries", balance=20_000),  # 100 days before
        txn("2025-06-10", 1_000, "debit", "groceries", balance=4_000),
        txn("2025-06-20", 6_000, "debit", "shopping", balance=-1_000),
    ]
    features = compute_features({**CUSTOMER, "credit_limit": 10_000.0}, transactions, AS_OF)
    assert features["balance_trend"] == pytest.approx((1_500 - 15_000) / 50_000)
    assert features["low_balance_share"] == pytest.approx(1.0)  # both recent balances below 10% of income
    assert features["credit_utilisation"] == pytest.approx(1_000 / 10_000)  # the overdraft drawn
    assert features["salaried"] == 0 and features["salary_missed_months"] == 0


def test_a_stopped_salary_counts_as_missed_months():
    salaries = [txn(day, 50_000, "credit", "salary") for day in ("2025-01-10", "2025-02-10", "2025-03-10")]
    features = compute_features(CUSTOMER, salaries, AS_OF)
    assert features["salaried"] == 1
    assert features["salary_missed_months"] == 3
    assert features["inflow_ratio_recent"] == pytest.approx(0.0)


def test_a_customer_without_transactions_gets_defined_values():
    features = compute_features(CUSTOMER, [], AS_OF)
    assert all(np.isfinite(value) for value in features.values())
    assert features["inflow_ratio_recent"] == 1.0
    assert features["failed_auto_debits_90d"] == 0 and features["salary_delay_days"] == 0
    assert features["tenure_months"] > 59
    # Without an as-of date or transactions the features are still all defined.
    assert all(np.isfinite(value) for value in compute_features({"customer_id": "C2"}, []).values())


def test_as_of_defaults_to_today():
    from finscore.products.risk.features import today

    assert compute_features(CUSTOMER, history()) == compute_features(CUSTOMER, history(), today())


def test_silence_counts_salaries_that_stopped_arriving():
    # No transaction at all since the history ended: 40 days on, a monthly salary is missing.
    ended = compute_features(CUSTOMER, history(), "2025-06-25")
    silent = compute_features(CUSTOMER, history(), "2025-08-04")
    assert ended["salary_missed_months"] == 0 and silent["salary_missed_months"] >= 1


def test_transactions_after_as_of_are_ignored():
    later = history() + [txn("2025-07-05", 10_000, "debit", "auto_debit_failed", "auto_debit")]
    assert compute_features(CUSTOMER, later, AS_OF) == compute_features(CUSTOMER, history(), AS_OF)


def test_feature_vector_and_matrix_follow_feature_order():
    features = compute_features(CUSTOMER, history(), AS_OF)
    vector = feature_vector(features)
    assert vector.dtype == np.float32 and vector.shape == (len(FEATURES),)
    assert vector[FEATURE_NAMES.index("failed_auto_debits_90d")] == 2
    np.testing.assert_array_equal(feature_matrix([features, features]), np.vstack([vector, vector]))


def test_missing_or_bad_features_are_named():
    features = compute_features(CUSTOMER, history(), AS_OF)
    broken = {**features, "emi_to_income": "high", "tenure_months": float("nan")}
    del broken["salaried"]
    with pytest.raises(ValidationFailed) as caught:
        feature_vector(broken)
    assert {issue.field for issue in caught.value.details} == {"salaried", "emi_to_income", "tenure_months"}
    with pytest.raises(ValidationFailed) as caught:
        feature_matrix([features, broken])
    assert "[1].salaried" in {issue.field for issue in caught.value.details}


def test_every_feature_but_the_credit_limit_indicator_has_a_reason_code():
    assert set(REASONS) == set(FEATURE_NAMES) - {"has_credit_limit"}
    codes = [REASONS[name].code for name in REASONS]
    assert len(set(codes)) == len(codes)
    assert all(REASONS[name].direction in (-1, 1) for name in REASONS)


def test_without_a_credit_limit_utilisation_is_zero_not_exhausted():
    spending = [txn("2025-06-20", 8_000, "debit", "shopping", "card")]
    without = compute_features({**CUSTOMER, "credit_limit": 0.0}, spending, AS_OF)
    with_limit = compute_features({**CUSTOMER, "credit_limit": 10_000.0}, spending, AS_OF)
    assert (without["credit_utilisation"], without["has_credit_limit"]) == (0.0, 0.0)
    assert (with_limit["credit_utilisation"], with_limit["has_credit_limit"]) == (0.8, 1.0)


def test_computed_features_always_lie_in_their_declared_domain():
    from training.risk.generator import generate_portfolio

    portfolio = generate_portfolio(customers=300, seed=11)
    by_customer: dict[str, list] = {}
    for txn in portfolio.transactions:
        by_customer.setdefault(txn["customer_id"], []).append(txn)
    for customer in portfolio.customers:
        features = compute_features(customer, by_customer.get(customer["customer_id"], []), as_of=portfolio.as_of)
        assert {spec.name: spec.issue(features[spec.name]) for spec in FEATURES} == dict.fromkeys(FEATURE_NAMES)
