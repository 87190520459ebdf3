"""Transaction files dropped under ingest/risk/transactions/: the risk_ingest handler fed SQS-wrapped S3 events."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from finscore.aws import client
from finscore.products.risk import ingest
from finscore.products.risk.features import today
from finscore.products.risk.repository import CustomerStore, TransactionStore
from tests.handlers import seed_product
from finscore.observability import logger
from tests.handlers import FakeContext, load_event, load_handler, s3_event, s3_notification_event

FUNCTION = "risk_ingest"
KEY = "ingest/risk/transactions/2025-07-03 branch upload.csv"
HEADER = "txn_id,customer_id,date,amount,direction,category,channel,balance_after,branch_code"
# Dated this week: features are computed as of today, so a failed auto-debit counts while recent.
DAY = [(today() - timedelta(days=days)).isoformat() for days in (3, 2, 1)]
ROWS = [
    f"F-0001,C000001,{DAY[0]},1999.00,debit,lending_app_transfer,upi,-250.00,B01",   # 1 good
    f"F-0002,C000002,{DAY[1]},5400.00,debit,auto_debit_failed,auto_debit,120.50,B01",  # 2 good
    f"F-0003,C000001,{DAY[1]},-5,debit,groceries,card,100.00,B02",                    # 3 amount <= 0
    f"F-0004,C999999,{DAY[1]},100.00,debit,dining,card,100.00,B02",                   # 4 unknown customer
    f"F-0005,C000002,{DAY[1]}",                                                       # 5 short row
    f"F-0001,C000001,{DAY[0]},1999.00,debit,lending_app_transfer,upi,-250.00,B01",   # 6 duplicate of 1
    f"F-0006,C000001,{DAY[2]},1.00,debit,groceries,card,1.00,B02,extra",             # 7 too many fields
]


@pytest.fixture
def seeded(aws, risk_champion):
    ingest.ingest_context.cache_clear()
    seed_product(aws, "risk", customers=30, seed=3, transactions_for=4)
    yield aws
    ingest.ingest_context.cache_clear()


def put_file(aws, key: str, text: str) -> None:
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key=key, Body=text.encode())


def read_json(aws, key: str) -> dict:
    return json.loads(client("s3").get_object(Bucket=aws["DATA_BUCKET"], Key=key)["Body"].read())


def notification(aws, key: str, case: str = "s3-transactions-file") -> dict:
    return s3_notification_event(FUNCTION, case, aws["DATA_BUCKET"], key)


def run(event: dict) -> dict:
    return load_handler(FUNCTION).lambda_handler(event, FakeContext())


def test_a_dropped_csv_is_validated_row_by_row_stored_and_rescored(seeded):
    aws = seeded
    before = CustomerStore(aws["RISK_CUSTOMERS_TABLE"]).get("C000002")
    put_file(aws, KEY, "\n".join([HEADER, *ROWS]) + "\n")

    result = run(notification(aws, KEY))

    assert result == {"batchItemFailures": []}
    rejects = read_json(aws, "ingest/risk/rejects/2025-07-03 branch upload.csv.json")["rejects"]
    assert [reject["row"] for reject in rejects] == [3, 4, 5, 6, 7]
    reasons = {reject["row"]: reject["reason"] for reject in rejects}
    assert "amount" in reasons[3]
    assert "unknown customer" in reasons[4]
    assert "fewer fields" in reasons[5]  # a short row: the tabular reader refuses it whole
    assert "duplicate of row 1" in reasons[6]
    assert "more fields" in reasons[7]
    summary = read_json(aws, "ingest/risk/summaries/2025-07-03 branch upload.csv.json")
    assert (summary["rows"], summary["stored"], summary["rejected"], summary["customers_updated"]) == (7, 2, 5, 2)
    assert summary["etag"]
    transactions = TransactionStore(aws["RISK_TRANSACTIONS_TABLE"])
    assert "F-0002" in {t["txn_id"] for t in transactions.all_for("C000002")}
    after = CustomerStore(aws["RISK_CUSTOMERS_TABLE"]).get("C000002")
    assert after["features_as_of"] == today().isoformat() and after["last_transaction_at"] >= DAY[1]
    assert after["features"]["failed_auto_debits_90d"] >= 1
    assert after["scored_at"] > before["scored_at"]


def test_a_redelivered_notification_ingests_nothing_twice(seeded):
    aws = seeded
    put_file(aws, KEY, "\n".join([HEADER, *ROWS[:2]]) + "\n")
    run(notification(aws, KEY))
    first = read_json(aws, "ingest/risk/summaries/2025-07-03 branch upload.csv.json")
    count = len(TransactionStore(aws["RISK_TRANSACTIONS_TABLE"]).all_for("C000001"))

    assert run(notification(aws, KEY)) == {"batchItemFailures": []}

    assert read_json(aws, "ingest/risk/summaries/2025-07-03 branch upload.csv.json") == first
    assert len(TransactionStore(aws["RISK_TRANSACTIONS_TABLE"]).all_for("C000001")) == count
    # A new version of the file (new ETag) is ingested again.
    put_file(aws, KEY, "\n".join([HEADER, *ROWS[:2], ROWS[2]]) + "\n")
    run(notification(aws, KEY))
    assert read_json(aws, "ingest/risk/summaries/2025-07-03 branch upload.csv.json")["rejected"] == 1


def test_json_lines_rows_are_numbered_by_line(seeded):
    aws = seeded
    key = "ingest/risk/transactions/mobile/2025-07-04.jsonl"
    good = {"txn_id": "J-1", "customer_id": "C000003", "date": "2025-07-04", "amount": 850.0, "direction": "credit",
            "category": "transfer_in", "channel": "upi", "balance_after": 4300.0}
    lines = [json.dumps(good), "", "{not json", json.dumps({**good, "txn_id": "J-2", "category": "casino"})]
    put_file(aws, key, "\n".join(lines) + "\n")

    assert run(notification(aws, key)) == {"batchItemFailures": []}

    rejects = read_json(aws, "ingest/risk/rejects/mobile/2025-07-04.jsonl.json")["rejects"]
    assert [reject["row"] for reject in rejects] == [3, 4]
    assert "category" in rejects[1]["reason"]
    assert read_json(aws, "ingest/risk/summaries/mobile/2025-07-04.jsonl.json")["stored"] == 1


def test_s3_test_events_and_keys_elsewhere_are_ignored(seeded):
    aws = seeded
    put_file(aws, "incoming/risk/other.csv", HEADER + "\n" + ROWS[0] + "\n")

    assert run(load_event(FUNCTION, "s3-test-event")) == {"batchItemFailures": []}
    assert run(notification(aws, "incoming/risk/other.csv")) == {"batchItemFailures": []}

    listed = client("s3").list_objects_v2(Bucket=aws["DATA_BUCKET"], Prefix="ingest/risk/summaries/")
    assert listed.get("KeyCount", 0) == 0


def test_a_message_that_cannot_be_read_is_logged_and_dropped_not_retried(seeded, monkeypatch):
    aws = seeded
    put_file(aws, KEY, HEADER + "\n" + ROWS[0] + "\n")
    good = notification(aws, KEY)
    bad = load_event(FUNCTION, "malformed-message")
    event = {"Records": [bad["Records"][0], good["Records"][0]]}
    logged = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", logged)

    result = run(event)

    # A retry could never read it: acknowledged, with its reason in the log, while the file is ingested.
    assert result == {"batchItemFailures": []}
    dropped = [json.loads(line) for line in logged.getvalue().splitlines() if "Unreadable message" in line]
    assert [(line["message_id"], line["body"]) for line in dropped] == [(bad["Records"][0]["messageId"], "not json")]
    assert "not JSON" in dropped[0]["reason"]
    assert read_json(aws, "ingest/risk/summaries/2025-07-03 branch upload.csv.json")["stored"] == 1


@pytest.mark.parametrize("case", ["s3-put-direct", "eventbridge-object-created"])
def test_s3s_own_event_and_eventbridges_are_ingested_like_the_queued_one(seeded, case):
    aws = seeded
    put_file(aws, KEY, "\n".join([HEADER, *ROWS]) + "\n")

    result = run(s3_event(FUNCTION, case, aws["DATA_BUCKET"], KEY))

    summary = read_json(aws, "ingest/risk/summaries/2025-07-03 branch upload.csv.json")
    assert (summary["rows"], summary["stored"], summary["rejected"]) == (7, 2, 5)
    assert result == {"processed": [summary]}


def test_a_failure_of_a_queued_file_is_reported_for_that_message_alone(seeded, monkeypatch):
    aws = seeded
    put_file(aws, KEY, HEADER + "\n" + ROWS[0] + "\n")
    missing = notification(aws, "ingest/risk/transactions/deleted before it was read.csv")
    missing["Records"][0]["messageId"] = "missing-file"
    event = {"Records": [missing["Records"][0], notification(aws, KEY)["Records"][0]]}

    assert run(event) == {"batchItemFailures": [{"itemIdentifier": "missing-file"}]}
    assert read_json(aws, "ingest/risk/summaries/2025-07-03 branch upload.csv.json")["stored"] == 1


def test_an_unsupported_file_is_reported_not_retried(seeded):
    aws = seeded
    key = "ingest/risk/transactions/statement.xls"
    put_file(aws, key, "\xd0\xcf\x11\xe0")

    assert run(notification(aws, key)) == {"batchItemFailures": []}

    rejects = read_json(aws, "ingest/risk/rejects/statement.xls.json")["rejects"]
    assert rejects == [{"row": 0, "reason": "file: unsupported format .xls; use .csv, .jsonl, .parquet or .xlsx"}]


def test_reports_are_named_after_the_file_below_the_prefix():
    from finscore.products.risk.ingest import report_name

    assert report_name("ingest/risk/transactions/a/b.csv", "ingest/risk/transactions/") == "a/b.csv"
