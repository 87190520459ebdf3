"""Local event source mappings: DynamoDB Streams and SQS delivered to the local functions as Lambda does.

Every table with a `stream` in resources.TABLES feeds each function that lists it in `streams`, and
each queue feeds the function that names it in `queue`, with Lambda's event shapes:

- streams: {"Records": [{eventID, eventName, eventVersion, eventSource, awsRegion, dynamodb: {Keys,
  NewImage, OldImage (DynamoDB JSON), SequenceNumber, SizeBytes, StreamViewType,
  ApproximateCreationDateTime}, eventSourceARN}]}; a batch item failure (or a raised error) makes the
  poller retry from the first failed record, up to the retry limit, then skip it (logged), as the
  mapping's on-failure destination would receive it;
- queues: {"Records": [{messageId, receiptHandle, body, attributes, messageAttributes, md5OfBody,
  eventSource, eventSourceARN, awsRegion}]}; successful messages are deleted, failed ones are left to
  come back after the visibility timeout (and reach the dead-letter queue after maxReceiveCount).

Each mapping is a daemon thread polling every `interval` seconds; a function handles one event at a
time (LocalFunction's lock), as one Lambda execution environment does. Streams start at LATEST, so
what was written before the run started (seed data) is not replayed.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TextIO

from finscore import resources
from finscore.aws import client
from finscore.products import all_functions

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"


def event_source_settings() -> dict[str, int]:
    """Batch sizes and retry limits from cdk.json, the same values the CDK app gives the mappings."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {
        "stream_batch_size": int(context.get("streamBatchSize", 100)),
        "stream_retry_attempts": int(context.get("streamRetryAttempts", 3)),
        "queue_batch_size": int(context.get("queueBatchSize", 1)),
    }


Invoke = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Mapping:
    """One event source mapping: a stream or queue feeding one function."""

    function: str
    source: str  # "stream" | "queue"
    resource: str  # table or queue name


def mappings(names: dict[str, str]) -> list[Mapping]:
    """Every stream and queue mapping the resource specs declare, with local resource names."""
    found = []
    for spec in all_functions():
        for table in spec.streams:
            if table.stream:
                found.append(Mapping(spec.name, "stream", names[table.env_var]))
        if spec.queue is not None:
            found.append(Mapping(spec.name, "queue", resources.local_name(spec.queue.logical_id)))
    return found


def _attribute_value(value: Any) -> Any:
    """boto3 hands binary attributes back as bytes; Lambda events carry them base64-encoded."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _attribute_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_attribute_value(item) for item in value]
    if isinstance(value, set):
        return [_attribute_value(item) for item in sorted(value)]
    return value


def lambda_stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: eventSourceARN added, the timestamp in epoch seconds."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = _attribute_value(change[image])
    return {
        "eventID": record.get("eventID"),
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", REGION),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


def lambda_sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(value["BinaryValue"]).decode() if "BinaryValue" in value else None,
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value.get("DataType"),
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def failed_identifiers(response: Any) -> list[str]:
    """The itemIdentifiers of a ReportBatchItemFailures answer."""
    if not isinstance(response, dict):
        return []
    return [str(item.get("itemIdentifier")) for item in response.get("batchItemFailures") or []]


class _Poller(threading.Thread):
    def __init__(self, mapping: Mapping, invoke: Invoke, stop: threading.Event, interval: float, log: TextIO):
        super().__init__(name=f"finscore-{mapping.source}-{mapping.function}-{mapping.resource}", daemon=True)
        self.mapping, self.invoke, self.stop_event, self.interval, self.log = mapping, invoke, stop, interval, log
        self.delivered = 0

    def note(self, text: str) -> None:
        self.log.write(f"  [{self.mapping.function} <- {self.mapping.source} {self.mapping.resource}] {text}\n")
        self.log.flush()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.poll_once()
            except Exception as exc:  # the embedded AWS is stopping, or a transient error: poll again
                if self.stop_event.is_set():
                    return
                self.note(f"poll failed: {exc}")
                busy = False
            if not busy:
                self.stop_event.wait(self.interval)

    def poll_once(self) -> bool:
        raise NotImplementedError


class StreamPoller(_Poller):
    """Reads every shard of a table's stream from LATEST and hands batches to the function."""

    def __init__(self, *args: Any, batch_size: int, retry_attempts: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.batch_size, self.retry_attempts = batch_size, retry_attempts
        self.stream_arn = client("dynamodb").describe_table(TableName=self.mapping.resource)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str] = {}
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._attempts: dict[str, int] = {}
        for shard in client("dynamodbstreams").describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
            self._iterators[shard["ShardId"]] = client("dynamodbstreams").get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            self._pending[shard["ShardId"]] = []

    def poll_once(self) -> bool:
        busy = False
        for shard_id in list(self._iterators):
            pending = self._pending[shard_id]
            if len(pending) < self.batch_size:
                answer = client("dynamodbstreams").get_records(
                    ShardIterator=self._iterators[shard_id], Limit=self.batch_size - len(pending)
                )
                self._iterators[shard_id] = answer["NextShardIterator"]
                pending.extend(lambda_stream_record(record, self.stream_arn) for record in answer["Records"])
            if pending:
                busy = True
                self._deliver(shard_id, pending[: self.batch_size])
        return busy

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        pending = self._pending[shard_id]
        try:
            failed = failed_identifiers(self.invoke({"Records": batch}))
        except Exception as exc:  # the whole batch failed, as an unhandled error in Lambda
            self.note(f"invocation failed: {exc!r}")
            failed = [batch[0]["dynamodb"]["SequenceNumber"]]
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        if not failed:
            del pending[: len(batch)]
            self.delivered += len(batch)
            return
        # As with ReportBatchItemFailures: everything before the first failed record is done; the
        # batch is retried from there.
        first = min((sequence_numbers.index(number) for number in failed if number in sequence_numbers), default=0)
        del pending[:first]
        self.delivered += first
        head = pending[0]["dynamodb"]["SequenceNumber"]
        self._attempts[head] = self._attempts.get(head, 0) + 1
        if self._attempts[head] > self.retry_attempts:
            self.note(f"record {head} failed {self._attempts[head]} times; skipped (the on-failure destination "
                      "in AWS)")
            del pending[0]
            del self._attempts[head]
        else:
            self.stop_event.wait(min(0.2 * 2 ** self._attempts[head], 2.0))


class QueuePoller(_Poller):
    """Receives from a queue, invokes, deletes what succeeded; failed messages come back later."""

    def __init__(self, *args: Any, batch_size: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.batch_size = batch_size
        sqs = client("sqs")
        self.queue_url = sqs.get_queue_url(QueueName=self.mapping.resource)["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def poll_once(self) -> bool:
        sqs = client("sqs")
        answer = sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return False
        records = [lambda_sqs_record(message, self.queue_arn) for message in messages]
        try:
            failed = set(failed_identifiers(self.invoke({"Records": records})))
        except Exception as exc:  # every message stays in the queue for redelivery
            self.note(f"invocation failed: {exc!r}")
            return True
        done = [record for record in records if record["messageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done[start:start + 10])],
            )
        self.delivered += len(done)
        if failed:
            self.note(f"{len(failed)} message(s) failed; left for redelivery")
        return True


class EventSources:
    """Every mapping of the app as a polling thread; `stop()` ends and joins them."""

    def __init__(self, names: dict[str, str], functions: dict[str, Any], *, interval: float = 0.25,
                 log: TextIO | None = None):
        self.names = names
        self.functions = functions
        self.interval = interval
        self.log = log or sys.stderr
        self._stop = threading.Event()
        self.pollers: list[_Poller] = []

    def start(self) -> "EventSources":
        settings = event_source_settings()
        for mapping in mappings(self.names):
            invoke = self.functions[mapping.function].invoke
            if mapping.source == "stream":
                poller: _Poller = StreamPoller(
                    mapping, invoke, self._stop, self.interval, self.log,
                    batch_size=settings["stream_batch_size"], retry_attempts=settings["stream_retry_attempts"],
                )
            else:
                poller = QueuePoller(mapping, invoke, self._stop, self.interval, self.log,
                                     batch_size=settings["queue_batch_size"])
            self.pollers.append(poller)
        for poller in self.pollers:
            poller.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for poller in self.pollers:
            poller.join(max(0.0, deadline - time.monotonic()))
        self.pollers = []
