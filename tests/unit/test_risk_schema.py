"""Risk input schema: customer and transaction records validated row by row, with row numbers and reasons."""

from __future__ import annotations

from finscore.records import validate_rows
from finscore.products.risk.records import CATEGORIES, CustomerRecord, TransactionRecord

CUSTOMER = {
    "customer_id": "C000001", "name": "Priya Sharma", "age": 34, "city": "Pune", "phone": "+919812345678",
    "email": "priya.sharma@example.in", "preferred_language": "hi", "preferred_channel": "sms",
    "monthly_income": 55000, "credit_limit": 100000, "opened_at": "2019-04-01",
}
TRANSACTION = {
    "txn_id": "T1", "customer_id": "C000001", "date": "2025-06-01", "amount": 55000.0, "direction": "credit",
    "category": "salary", "channel": "netbanking", "balance_after": 61250.5,
}


def test_valid_rows_become_records_and_extra_columns_are_ignored():
    records, rejects = validate_rows(CustomerRecord, [CUSTOMER, {**CUSTOMER, "customer_id": "C2", "branch": "P01"}])
    assert rejects == []
    assert [record.customer_id for record in records] == ["C000001", "C2"]
    assert records[0].opened_at.isoformat() == "2019-04-01"


def test_csv_strings_are_coerced():
    row = {key: str(value) for key, value in TRANSACTION.items()}
    records, rejects = validate_rows(TransactionRecord, [row])
    assert rejects == [] and records[0].amount == 55000.0 and records[0].balance_after == 61250.5


def test_bad_rows_are_reported_by_one_based_row_number_naming_the_fields():
    rows = [
        CUSTOMER,
        {**CUSTOMER, "age": 16, "phone": "9812345678"},
        {**CUSTOMER, "preferred_language": "ta", "customer_id": "bad id!"},
        "not a row",
    ]
    records, rejects = validate_rows(CustomerRecord, rows)
    assert len(records) == 1
    assert [reject.row for reject in rejects] == [2, 3, 4]
    assert "age" in rejects[0].reason and "phone" in rejects[0].reason
    assert "preferred_language" in rejects[1].reason and "customer_id" in rejects[1].reason
    assert "row" in rejects[2].reason


def test_transaction_rules():
    rows = [
        {**TRANSACTION, "amount": 0},
        {**TRANSACTION, "category": "casino"},
        {**TRANSACTION, "direction": "out", "channel": "cheque"},
        {**TRANSACTION, "date": "2025-13-01"},
        {**TRANSACTION, "balance_after": -2500.0, "category": "auto_debit_failed", "direction": "debit"},
        {key: value for key, value in TRANSACTION.items() if key != "txn_id"},
    ]
    records, rejects = validate_rows(TransactionRecord, rows)
    assert len(records) == 1 and records[0].balance_after == -2500.0  # overdrawn balances are allowed
    reasons = {reject.row: reject.reason for reject in rejects}
    assert set(reasons) == {1, 2, 3, 4, 6}
    assert reasons[1].startswith("amount")
    assert reasons[2].startswith("category")
    assert "direction" in reasons[3] and "channel" in reasons[3]
    assert reasons[4].startswith("date")
    assert "txn_id" in reasons[6] and "required" in reasons[6]


def test_every_documented_category_is_accepted():
    rows = [{**TRANSACTION, "txn_id": f"T{i}", "category": category} for i, category in enumerate(CATEGORIES)]
    records, rejects = validate_rows(TransactionRecord, rows)
    assert rejects == [] and len(records) == 14
