"""The risk product on the running local stack, as a bank engineer would try it with curl and the AWS CLI."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

import boto3
import pytest
from websockets.sync.client import connect

from finscore import resources
from finscore.products.risk.spec import INTERVENTIONS_TABLE, TRANSACTIONS_QUEUE

DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def riskiest(stack, count: int = 1) -> list[dict]:
    status, body = stack.request("GET", f"/v1/risk/high-risk?limit={count}")
    assert status == 200, body
    return body["customers"]


def test_high_risk_customers_come_highest_first_across_pages(stack):
    status, first = stack.request("GET", "/v1/risk/high-risk?limit=5")
    assert status == 200 and len(first["customers"]) == 5 and first["next_cursor"]
    cursor = urllib.parse.quote(first["next_cursor"])
    status, second = stack.request("GET", f"/v1/risk/high-risk?limit=5&cursor={cursor}")
    assert status == 200

    scores = [c["risk_score"] for c in first["customers"] + second["customers"]]
    assert scores == sorted(scores, reverse=True)
    ids = [c["customer_id"] for c in first["customers"] + second["customers"]]
    assert len(set(ids)) == len(ids)
    assert all(c["risk_level"] in ("high", "critical") for c in first["customers"])


def test_a_customer_is_scored_by_id_and_explained_in_plain_language(stack):
    customer = riskiest(stack)[0]["customer_id"]

    status, score = stack.request("POST", "/v1/risk/score", {"customer_id": customer})
    assert status == 200, score
    assert 0 <= score["risk_score"] <= 100 and score["risk_level"] in ("low", "medium", "high", "critical")

    status, explanation = stack.request("GET", f"/v1/risk/customers/{customer}/explanation")
    assert status == 200, explanation
    reasons = explanation["reasons"]
    assert 1 <= len(reasons) <= 4
    assert [r["impact"] for r in reasons] == sorted((r["impact"] for r in reasons), reverse=True)
    assert all(r["impact"] > 0 and len(r["text"].split()) >= 4 for r in reasons)


def test_an_unknown_customer_is_404(stack):
    status, body = stack.request("GET", "/v1/risk/customers/C999999999")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_the_same_idempotency_key_twice_makes_one_intervention_and_one_sms(stack):
    customer = riskiest(stack, 3)[2]["customer_id"]
    request = {"customer_id": customer, "channel": "sms", "language": "hi"}

    answers = [stack.request("POST", "/v1/risk/interventions", request, headers={"Idempotency-Key": "e2e-once"})
               for _ in range(2)]

    assert [status for status, _ in answers] == [201, 200]
    assert answers[0][1]["intervention_id"] == answers[1][1]["intervention_id"]
    status, listing = stack.request("GET", f"/v1/risk/interventions?customer_id={customer}")
    manual = [i for i in listing["interventions"] if i["trigger"] == "manual"]
    assert status == 200 and len(manual) == 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = [i for i in stack.request("GET", f"/v1/risk/interventions?customer_id={customer}")[1]["interventions"]
                if i["intervention_id"] == manual[0]["intervention_id"] and i["status"] == "sent"]
        if sent:
            break
        time.sleep(0.5)
    assert sent, "the delivery function did not send the intervention"
    outbox = json.loads(stack.get_text(f"http://127.0.0.1:{stack.ws_port}/outbox"))
    ours = next(sms for sms in outbox["sms"] if sms["message_id"] == sent[0]["provider_message_id"])
    assert ours["message"] == manual[0]["message"]
    # Other tests send the same Hindi text to other customers: one SMS to this customer's phone.
    assert sum(1 for sms in outbox["sms"]
               if (sms["phone_number"], sms["message"]) == (ours["phone_number"], ours["message"])) == 1


def test_a_hindi_sms_text_comes_in_devanagari(stack):
    status, body = stack.request("POST", "/v1/risk/messages", {"risk_level": "high", "channel": "sms", "language": "hi"})
    assert status == 200, body
    assert DEVANAGARI.search(body["text"]) and body["encoding"] == "UCS-2" and body["segments"] >= 1


def test_bad_risk_input_is_4xx_naming_the_field(stack):
    status, body = stack.request("POST", "/v1/risk/score", {"customer_id": 5})
    assert status == 422 and [d["field"] for d in body["error"]["details"]] == ["customer_id"]
    status, body = stack.request("GET", "/v1/risk/high-risk?min_level=extreme")
    assert status == 422 and body["error"]["details"][0]["field"] == "query.min_level"


def test_a_dashboard_hears_intervention_status_changes_live(stack):
    customer = riskiest(stack, 5)[4]["customer_id"]
    with connect(f"ws://127.0.0.1:{stack.ws_port}", open_timeout=10) as socket:
        status, created = stack.request("POST", "/v1/risk/interventions", {"customer_id": customer, "channel": "app"},
                                        headers={"Idempotency-Key": "e2e-live"})
        assert status == 201, created
        statuses = []
        deadline = time.monotonic() + 30
        while "sent" not in statuses and time.monotonic() < deadline:
            message = json.loads(socket.recv(timeout=30))
            if message.get("type") == "intervention" and message["intervention_id"] == created["intervention_id"]:
                statuses.append(message["status"])
    assert "queued" in statuses and "sent" in statuses


def test_a_transactions_file_dropped_in_s3_is_ingested_with_row_level_rejects(stack):
    customer = riskiest(stack)[0]["customer_id"]
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    bucket = resources.local_name(resources.DATA_BUCKET.logical_id)
    prefix = TRANSACTIONS_QUEUE.s3_prefix
    rows = [
        "txn_id,customer_id,date,amount,direction,category,channel,balance_after",
        f"e2e-1,{customer},2025-06-30,1200.50,debit,groceries,upi,5300.00",
        f"e2e-2,{customer},2025-06-30,-5,sideways,groceries,upi,5300.00",
    ]
    s3.put_object(Bucket=bucket, Key=f"{prefix}e2e batch.csv", Body="\n".join(rows).encode())

    deadline, summary = time.monotonic() + 60, None
    while summary is None and time.monotonic() < deadline:
        try:
            summary = json.loads(s3.get_object(Bucket=bucket, Key="ingest/risk/summaries/e2e batch.csv.json")["Body"].read())
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    assert summary is not None, "the dropped file was not ingested"
    rejects = json.loads(s3.get_object(Bucket=bucket, Key="ingest/risk/rejects/e2e batch.csv.json")["Body"].read())
    rejected_rows = {reject["row"] for reject in rejects["rejects"]}
    assert rejected_rows == {2}
    assert any("amount" in r["reason"] for r in rejects["rejects"]) and any("direction" in r["reason"] for r in rejects["rejects"])


@pytest.mark.parametrize("key", [None, "wrong"])
def test_risk_routes_need_the_key(stack, key):
    status, _ = stack.request("GET", "/v1/risk/high-risk", key=key)
    assert status == 403


def test_an_intervention_is_sent_after_a_cancelled_transaction_without_a_restart(stack, home):
    """One failed ConditionCheck makes moto put back a copy of the table and its stream shard; the
    stream pollers must follow it, or interventions stay queued until a restart."""
    dynamodb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    table = resources.local_name(INTERVENTIONS_TABLE.logical_id)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[{"ConditionCheck": {
            "TableName": table, "Key": {"intervention_id": {"S": "x"}},
            "ConditionExpression": "attribute_exists(intervention_id)"}}])

    customer = riskiest(stack, 7)[6]["customer_id"]
    with connect(f"ws://127.0.0.1:{stack.ws_port}", open_timeout=10) as socket:
        status, created = stack.request("POST", "/v1/risk/interventions", {"customer_id": customer, "channel": "sms"},
                                        headers={"Idempotency-Key": "e2e-after-a-cancelled-transaction"})
        assert status == 201 and created["status"] == "queued", created
        heard = []
        deadline = time.monotonic() + 60
        while "sent" not in heard and time.monotonic() < deadline:
            message = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("type") == "intervention" and message["intervention_id"] == created["intervention_id"]:
                heard.append(message["status"])

    # Both functions on the stream saw it: the delivery function sent it, the broadcaster pushed it.
    assert "sent" in heard, heard
    status, listing = stack.request("GET", f"/v1/risk/interventions?customer_id={customer}")
    (stored,) = [i for i in listing["interventions"] if i["intervention_id"] == created["intervention_id"]]
    assert status == 200 and stored["status"] == "sent"
    outbox = json.loads(stack.get_text(f"http://127.0.0.1:{stack.ws_port}/outbox"))
    assert sum(1 for sms in outbox["sms"] if sms["message"] == created["message"]) == 1
    notes = (home / "logs" / "event_sources.log").read_text()
    assert f"[intervention_delivery <- stream {table}]" in notes and "as by a cancelled transaction" in notes
