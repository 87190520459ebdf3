"""The local event source mappings against the embedded AWS (moto's server, as `finscore run` uses it):
stream records and queue messages in Lambda's shapes, partial failures retried, successes not
delivered twice, and the stream followed when moto swaps it (a cancelled transaction, a
recreated table). In-process mock_aws routes DynamoDB Streams calls to DynamoDB, hence the server."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import urllib.request
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from finscore import resources
from finscore.aws import client, reset_clients
from finscore.products import all_functions
from finscore.products.risk.spec import TRANSACTIONS_QUEUE
from local.embedded_aws import EmbeddedAws, free_port
from local.event_sources import EventSources, Mapping, StreamPoller, mappings
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
    found = {(m.function, m.source, m.resource, m.event_names) for m in mappings(aws)}
    assert found == {
        ("intervention_delivery", "stream", aws["INTERVENTIONS_TABLE"], ("INSERT",)),
        ("live_broadcast", "stream", aws["RISK_CUSTOMERS_TABLE"], ()),
        ("live_broadcast", "stream", aws["INTERVENTIONS_TABLE"], ()),
        ("risk_ingest", "queue", resources.local_name("RiskTransactionsQueue"), ()),
        ("demand_ingest", "queue", resources.local_name("DemandSalesQueue"), ()),
        ("opportunity_ingest", "queue", resources.local_name("OpportunityReviewsQueue"), ()),
        ("batch_score", "queue", resources.local_name("BatchIncomingQueue"), ()),
    }


def test_stream_records_arrive_in_lambdas_dynamodb_event_shape(aws, functions, sources):
    dynamodb = client("dynamodb")
    item = {"intervention_id": {"S": "iv-1"}, "customer_id": {"S": "C1"}, "status": {"S": "queued"},
            "channel": {"S": "sms"}, "created_at": {"S": "2026-03-14T09:30:13+00:00"}}
    dynamodb.put_item(TableName=aws["INTERVENTIONS_TABLE"], Item=item)
    dynamodb.put_item(TableName=aws["INTERVENTIONS_TABLE"], Item={**item, "status": {"S": "sent"}})

    assert wait_for(lambda: len(functions["live_broadcast"].records()) == 2)
    inserted, modified = functions["live_broadcast"].records()
    assert inserted["eventName"] == "INSERT" and modified["eventName"] == "MODIFY"
    # Delivery's mapping lets only new interventions through (its spec's stream_events), as in AWS.
    time.sleep(0.3)
    assert functions["intervention_delivery"].records() == [inserted]
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
    failed = []

    def fail_iv_1_once(event):
        # By key, not by position: the three writes may reach the function in one batch or several.
        for record in event["Records"]:
            if record["dynamodb"]["Keys"]["intervention_id"]["S"] == "iv-1" and not failed:
                failed.append(record)
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    functions["intervention_delivery"] = RecordingFunction([fail_iv_1_once] * 50)
    running = EventSources(aws, functions, interval=0.05).start()
    try:
        for number in range(3):
            client("dynamodb").put_item(TableName=aws["INTERVENTIONS_TABLE"], Item={
                "intervention_id": {"S": f"iv-{number}"}, "customer_id": {"S": "C1"}, "created_at": {"S": "t"}})
        delivery = functions["intervention_delivery"]

        def keys():
            return [r["dynamodb"]["Keys"]["intervention_id"]["S"] for r in delivery.records()]

        assert wait_for(lambda: keys().count("iv-1") == 2 and "iv-2" in keys())
        time.sleep(0.3)
    finally:
        running.stop()
    delivered = keys()
    assert failed
    # iv-0 succeeded before the failure and is not delivered again; iv-1 comes again, with iv-2 after it.
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


# -- the stream pollers follow the table's stream when moto swaps it under them --------------------


def intervention(key):
    return {"intervention_id": {"S": key}, "customer_id": {"S": "C1"}, "created_at": {"S": "t"}}


def interventions_read_by(function, table):
    """The intervention ids FUNCTION received from TABLE's stream, as (id, eventName), in order."""
    return [(r["dynamodb"]["Keys"]["intervention_id"]["S"], r["eventName"]) for r in function.records()
            if f":table/{table}/stream/" in r["eventSourceARN"]]


def notes_about(log, function, table):
    return [line for line in log.getvalue().splitlines() if f"[{function} <- stream {table}]" in line]


@pytest.fixture
def following(aws, functions):
    """Every mapping running, with the stream pollers re-checking their table's stream often."""
    log = io.StringIO()
    running = EventSources(aws, functions, interval=0.05, resync_every=0.2, log=log).start()
    yield log
    running.stop()


def cancel_a_transaction(table, *writes):
    """A TransactWriteItems that a failed ConditionCheck cancels, after WRITES (also undone)."""
    check = {"ConditionCheck": {"TableName": table, "Key": {"intervention_id": {"S": "absent"}},
                                "ConditionExpression": "attribute_exists(intervention_id)"}}
    with pytest.raises(ClientError) as cancelled:
        client("dynamodb").transact_write_items(TransactItems=[*writes, check])
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"


@pytest.mark.parametrize("before", [["iv-before"], []], ids=["after-a-record", "on-an-unread-stream"])
def test_after_a_cancelled_transaction_new_records_still_arrive_once(aws, functions, following, before):
    table = aws["INTERVENTIONS_TABLE"]
    dynamodb = client("dynamodb")
    for key in before:
        dynamodb.put_item(TableName=table, Item=intervention(key))
    assert wait_for(lambda: len(interventions_read_by(functions["intervention_delivery"], table)) == len(before))

    # When a transaction is cancelled (moto restores a copy of the table, stream shard included)
    cancel_a_transaction(table)
    dynamodb.put_item(TableName=table, Item=intervention("iv-after"))

    # Then both functions on the stream get the new record, and nothing twice
    expected = [(key, "INSERT") for key in before + ["iv-after"]]
    for name in ("intervention_delivery", "live_broadcast"):
        assert wait_for(lambda: len(interventions_read_by(functions[name], table)) >= len(expected)), name
    time.sleep(0.5)  # room for a duplicate to show up
    for name in ("intervention_delivery", "live_broadcast"):
        assert interventions_read_by(functions[name], table) == expected
        (note,) = notes_about(following, name, table)
        assert "replaced, as by a cancelled transaction" in note and "; resumed shard" in note
        assert ("after sequence number" if before else "from its first record (nothing was read") in note


def test_the_writes_of_a_cancelled_transaction_are_not_delivered(aws, functions, following):
    table = aws["INTERVENTIONS_TABLE"]
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName=table, Item=intervention("iv-before"))
    assert wait_for(lambda: interventions_read_by(functions["intervention_delivery"], table))

    # moto streams the Put to the copy of the table it then discards
    cancel_a_transaction(table, {"Put": {"TableName": table, "Item": intervention("iv-undone")}})
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"intervention_id": {"S": "iv-undone"}})
    dynamodb.put_item(TableName=table, Item=intervention("iv-after"))

    delivery = functions["intervention_delivery"]
    assert wait_for(lambda: ("iv-after", "INSERT") in interventions_read_by(delivery, table))
    time.sleep(0.5)
    assert interventions_read_by(delivery, table) == [("iv-before", "INSERT"), ("iv-after", "INSERT")]


def test_a_deleted_table_is_waited_for_and_its_new_stream_read_from_the_start(aws, functions, following):
    table = aws["INTERVENTIONS_TABLE"]
    dynamodb = client("dynamodb")
    delivery = functions["intervention_delivery"]
    old_stream = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    dynamodb.put_item(TableName=table, Item=intervention("iv-1"))
    assert wait_for(lambda: interventions_read_by(delivery, table))

    # When the table is deleted right after a write, and stays missing for a while
    dynamodb.put_item(TableName=table, Item=intervention("iv-2"))
    dynamodb.delete_table(TableName=table)
    assert wait_for(lambda: any("waiting: the table does not exist" in line
                                for line in notes_about(following, "intervention_delivery", table)))
    time.sleep(1.0)  # several re-checks of the missing table

    # Then recreated with its stream, and written to
    create_resources()
    dynamodb.put_item(TableName=table, Item=intervention("iv-3"))
    new_stream = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]

    for name in ("intervention_delivery", "live_broadcast"):
        assert wait_for(lambda: ("iv-3", "INSERT") in interventions_read_by(functions[name], table)), name
    time.sleep(0.5)
    for name in ("intervention_delivery", "live_broadcast"):
        read = interventions_read_by(functions[name], table)
        assert read == [("iv-1", "INSERT"), ("iv-2", "INSERT"), ("iv-3", "INSERT")], name
        notes = notes_about(following, name, table)
        assert len([line for line in notes if "waiting: the table does not exist" in line]) == 1, notes
        assert any(f"the table's stream is now {new_stream} (was {old_stream};" in line
                   and "from its first record" in line for line in notes), notes
    assert [r["eventSourceARN"] for r in delivery.records()][-1] == new_stream


def test_records_are_delivered_exactly_once_in_order_while_the_stream_is_rechecked(aws, functions, following):
    table = aws["INTERVENTIONS_TABLE"]
    dynamodb = client("dynamodb")
    for number in range(30):
        dynamodb.put_item(TableName=table, Item=intervention(f"iv-{number}"))
        if number % 3 == 0:
            time.sleep(0.1)  # let some re-checks fall between writes
    for number in range(30):
        dynamodb.put_item(TableName=table, Item={**intervention(f"iv-{number}"), "status": {"S": "sent"}})

    broadcast, delivery = functions["live_broadcast"], functions["intervention_delivery"]
    assert wait_for(lambda: len(interventions_read_by(broadcast, table)) >= 60)
    time.sleep(0.5)
    inserts = [(f"iv-{n}", "INSERT") for n in range(30)]
    assert interventions_read_by(broadcast, table) == inserts + [(f"iv-{n}", "MODIFY") for n in range(30)]
    # Delivery's mapping filters the status changes out.
    assert interventions_read_by(delivery, table) == inserts
    for function in (broadcast, delivery):
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in function.records()
                   if f":table/{table}/stream/" in r["eventSourceARN"]]
        assert numbers == sorted(set(numbers))
    for name in ("live_broadcast", "intervention_delivery"):
        assert notes_about(following, name, table) == []  # nothing to recover from


def test_a_refused_iterator_is_replaced_after_the_last_record_read(aws):
    received = RecordingFunction()
    log = io.StringIO()
    table = aws["INTERVENTIONS_TABLE"]
    poller = StreamPoller(Mapping("intervention_delivery", "stream", table), received.invoke, threading.Event(),
                          0.05, log, batch_size=10, retry_attempts=3, resync_every=60)
    client("dynamodb").put_item(TableName=table, Item=intervention("iv-1"))
    poller.poll_once()
    (reader,) = poller._readers.values()
    reader.iterator = "arn:aws:dynamodb:us-east-1:123456789012:table/expired|1|unknown"

    client("dynamodb").put_item(TableName=table, Item=intervention("iv-2"))
    for _ in range(3):
        poller.poll_once()

    assert [key for key, _ in interventions_read_by(received, table)] == ["iv-1", "iv-2"]
    (note,) = notes_about(log, "intervention_delivery", table)
    assert "reading the stream was refused" in note
    assert f"resumed shard {reader.shard_id} after sequence number" in note
