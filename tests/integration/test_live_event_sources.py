"""The local event source mappings against the embedded AWS (moto's server, as `finscore run` uses it):
stream records and queue messages in Lambda's shapes, partial failures retried, successes not
delivered twice. In-process mock_aws routes DynamoDB Streams calls to DynamoDB, hence the server."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from urllib.parse import unquote_plus

import pytest

from finscore import resources
from finscore.aws import client, reset_clients
from finscore.products import all_functions
from finscore.products.risk.spec import TRANSACTIONS_QUEUE
from local.embedded_aws import EmbeddedAws, free_port
from local.event_sources import EventSources, mappings
from local.resources import create_resources


@pytest.fixture(scope="module")
def embedded_aws():
    server = EmbeddedAws(free_port())
    saved = os.environ.get("AWS_ENDPOINT_URL")
    server.start()
    os.environ.pop("AWS_ENDPOINT_URL", None) if saved is None else os.environ.update(AWS_ENDPOINT_URL=saved)
    yield server
    server.stop()


@pytest.fixture
def aws(embedded_aws, monkeypatch):
    """Fresh resources in the module's embedded AWS; yields {ENV_VAR: local name}."""
    urllib.request.urlopen(urllib.request.Request(f"{embedded_aws.endpoint_url}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", embedded_aws.endpoint_url)
    reset_clients()
    yield create_resources()
    reset_clients()


class RecordingFunction:
    """Stands in for a LocalFunction: records each event and answers with the next scripted answer."""

    def __init__(self, answers=()):
        self.events: list[dict] = []
        self.answers = list(answers)
        self.lock = threading.Lock()

    def invoke(self, event):
        with self.lock:
            self.events.append(event)
            answer = self.answers.pop(0) if self.answers else {"batchItemFailures": []}
        if callable(answer):
            return answer(event)
        return answer

    def records(self):
        return [record for event in self.events for record in event["Records"]]


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def functions():
    return {spec.name: RecordingFunction() for spec in all_functions()}


@pytest.fixture
def sources(aws, functions):
    running = EventSources(aws, functions, interval=0.05).start()
    yield running
    running.stop()


def test_every_stream_and_queue_of_the_specs_is_mapped(aws):
    found = {(m.function, m.source, m.resource) for m in mappings(aws)}
    assert found == {
        ("intervention_delivery", "stream", aws["INTERVENTIONS_TABLE"]),
        ("live_broadcast", "stream", aws["RISK_CUSTOMERS_TABLE"]),
        ("live_broadcast", "stream", aws["INTERVENTIONS_TABLE"]),
        ("risk_ingest", "queue", resources.local_name("RiskTransactionsQueue")),
        ("batch_score", "queue", resources.local_name("BatchIncomingQueue")),
    }


def test_stream_records_arrive_in_lambdas_dynamodb_event_shape(aws, functions, sources):
    dynamodb = client("dynamodb")
    item = {"intervention_id": {"S": "iv-1"}, "customer_id": {"S": "C1"}, "status": {"S": "queued"},
            "channel": {"S": "sms"}, "created_at": {"S": "2026-03-14T09:30:13+00:00"}}
    dynamodb.put_item(TableName=aws["INTERVENTIONS_TABLE"], Item=item)
    dynamodb.put_item(TableName=aws["INTERVENTIONS_TABLE"], Item={**item, "status": {"S": "sent"}})

    for name in ("intervention_delivery", "live_broadcast"):
        assert wait_for(lambda: len(functions[name].records()) == 2), name
    inserted, modified = functions["intervention_delivery"].records()
    assert inserted["eventName"] == "INSERT" and modified["eventName"] == "MODIFY"
    assert inserted["eventSource"] == "aws:dynamodb"
    assert inserted["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:")
    assert f":table/{aws['INTERVENTIONS_TABLE']}/stream/" in inserted["eventSourceARN"]
    assert inserted["dynamodb"]["Keys"] == {"intervention_id": {"S": "iv-1"}}
    assert inserted["dynamodb"]["NewImage"] == item and "OldImage" not in inserted["dynamodb"]
    assert modified["dynamodb"]["OldImage"]["status"] == {"S": "queued"}
    assert modified["dynamodb"]["NewImage"]["status"] == {"S": "sent"}
    assert modified["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(modified["dynamodb"]["ApproximateCreationDateTime"], int)
    assert int(modified["dynamodb"]["SequenceNumber"]) > int(inserted["dynamodb"]["SequenceNumber"])
    json.dumps(functions["live_broadcast"].events)  # serialisable as Lambda's JSON event


def test_a_partial_failure_is_retried_from_the_failed_record_only(aws, functions):
    def fail_second(event):
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}]}

    functions["intervention_delivery"] = RecordingFunction([fail_second])
    running = EventSources(aws, functions, interval=0.05).start()
    try:
        for number in range(3):
            client("dynamodb").put_item(TableName=aws["INTERVENTIONS_TABLE"], Item={
                "intervention_id": {"S": f"iv-{number}"}, "customer_id": {"S": "C1"}, "created_at": {"S": "t"}})
        delivery = functions["intervention_delivery"]
        assert wait_for(lambda: sum(1 for r in delivery.records()
                                    if r["dynamodb"]["Keys"]["intervention_id"]["S"] == "iv-1") == 2)
        time.sleep(0.3)
    finally:
        running.stop()
    delivered = [r["dynamodb"]["Keys"]["intervention_id"]["S"] for r in delivery.records()]
    # iv-0 succeeded in the first batch and is not delivered again; iv-1 and iv-2 come again.
    assert delivered.count("iv-0") == 1
    assert delivered[-2:] == ["iv-1", "iv-2"] or delivered.count("iv-2") == 2


def test_seed_data_written_before_the_start_is_not_replayed(aws, functions):
    client("dynamodb").put_item(TableName=aws["RISK_CUSTOMERS_TABLE"], Item={"customer_id": {"S": "seeded"}})
    running = EventSources(aws, functions, interval=0.05).start()
    try:
        client("dynamodb").put_item(TableName=aws["RISK_CUSTOMERS_TABLE"], Item={"customer_id": {"S": "new"}})
        assert wait_for(lambda: functions["live_broadcast"].records())
    finally:
        running.stop()
    keys = [r["dynamodb"]["Keys"]["customer_id"]["S"] for r in functions["live_broadcast"].records()]
    assert keys == ["new"]


def test_files_under_the_queue_prefix_reach_risk_ingest_as_sqs_events(aws, functions, sources):
    s3 = client("s3")
    prefix = TRANSACTIONS_QUEUE.s3_prefix
    s3.put_object(Bucket=aws["DATA_BUCKET"], Key=f"{prefix}march 2026.csv", Body=b"txn_id\n")
    s3.put_object(Bucket=aws["DATA_BUCKET"], Key="elsewhere/ignored.csv", Body=b"txn_id\n")

    ingest = functions["risk_ingest"]
    assert wait_for(lambda: any("Records" in json.loads(r["body"]) for r in ingest.records()))
    record = next(r for r in ingest.records() if "Records" in json.loads(r["body"]))
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":" + resources.local_name("RiskTransactionsQueue"))
    assert {"messageId", "receiptHandle", "attributes", "messageAttributes", "md5OfBody", "awsRegion"} <= set(record)
    (s3_event,) = json.loads(record["body"])["Records"]
    # Keys arrive URL-encoded ("+" for a space), as from S3; moto also encodes the slashes.
    assert "march+2026.csv" in s3_event["s3"]["object"]["key"]
    assert unquote_plus(s3_event["s3"]["object"]["key"]) == f"{prefix}march 2026.csv"
    assert all("elsewhere" not in r["body"] for r in ingest.records())


def test_failed_messages_stay_in_the_queue_and_successes_are_deleted(aws, functions):
    functions["risk_ingest"] = RecordingFunction(
        [lambda event: {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}] * 50
    )
    sqs = client("sqs")
    url = aws["RISK_TRANSACTIONS_QUEUE_URL"]
    sqs.purge_queue(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="fails")
    running = EventSources(aws, functions, interval=0.05).start()
    try:
        assert wait_for(lambda: functions["risk_ingest"].records())
    finally:
        running.stop()
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
