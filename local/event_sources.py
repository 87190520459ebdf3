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
time (LocalFunction's lock), as one Lambda execution environment does. Streams start at LATEST (after
the newest record at start), so what was written before the run started (seed data) is not replayed.

A stream poller follows its table's stream when it changes under it, and notes each change in one
line of the log (the mapping, what changed, where reading resumed):
- every `resync_every` seconds it describes the table and its stream again: a new LatestStreamArn (the
  table was deleted and recreated) is read from its first record, once what the old stream's
  iterators still held is taken; new shards are read from their first record; a missing table or a
  disabled stream is waited for, noted once;
- moto undoes a cancelled TransactWriteItems by putting back a copy of the table, stream shard
  included, under the same stream ARN and shard id: iterators on the old shard then see no new
  records, only the undone writes. So the last record of every read is looked up through a fresh
  iterator, and at each re-check a shard whose reads came back empty is probed with one. On a
  mismatch, or an iterator refused, the poller resumes just after the newest record read that the
  shard still has (same sequence number and eventID): what was delivered is not delivered again, what
  the table wrote since is not lost, and the undone writes are not delivered.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TextIO

from botocore.exceptions import ClientError

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
    # Stream record kinds the function is invoked for (its spec's stream_events); empty: all.
    event_names: tuple[str, ...] = ()


def mappings(names: dict[str, str]) -> list[Mapping]:
    """Every stream and queue mapping the resource specs declare, with local resource names."""
    found = []
    for spec in all_functions():
        for table in spec.streams:
            if table.stream:
                found.append(Mapping(spec.name, "stream", names[table.env_var], spec.stream_events))
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
        failure, repeats = "", 0
        while not self.stop_event.is_set():
            try:
                busy = self.poll_once()
            except Exception as exc:  # the embedded AWS is stopping, or a transient error: poll again
                if self.stop_event.is_set():
                    return
                busy = False
                # A failure that lasts is noted once, not at every poll.
                if f"{exc}" != failure:
                    failure, repeats = f"{exc}", 0
                    self.note(f"poll failed: {exc}")
                repeats += 1
            else:
                if failure:
                    self.note(f"polling again after {repeats} failed poll(s)")
                    failure, repeats = "", 0
            if not busy:
                self.stop_event.wait(self.interval)

    def poll_once(self) -> bool:
        raise NotImplementedError


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# How many of the records read last a shard reader remembers, to find where to resume in a shard
# that was swapped under it (see StreamPoller).
RESUME_HISTORY = 100


@dataclass
class _ShardReader:
    """One shard of a stream: the poller's place in it, and the records read but not yet delivered."""

    stream_arn: str
    shard_id: str
    iterator: str | None  # None once the stream or shard is gone: only `pending` is left to deliver
    # (SequenceNumber, eventID) of the records read last, newest last: where to resume without an iterator.
    read: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=RESUME_HISTORY))
    pending: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0  # failed deliveries of pending[0]
    idle: bool = False  # the last read found nothing

    def accept(self, records: list[dict[str, Any]], event_names: tuple[str, ...] = ()) -> None:
        """Records read; those of EVENT_NAMES (all when empty) are to be delivered, as the mapping's
        filter criteria let through in AWS."""
        for record in records:
            self.read.append((record["dynamodb"]["SequenceNumber"], record["eventID"]))
            if not event_names or record["eventName"] in event_names:
                self.pending.append(lambda_stream_record(record, self.stream_arn))


def _record_at(stream_arn: str, shard_id: str, sequence_number: str | None) -> dict[str, Any] | None:
    """The shard's record with SEQUENCE_NUMBER (None: its first record), or None if it has no such record."""
    streams = client("dynamodbstreams")
    if sequence_number is None:
        position = {"ShardIteratorType": "TRIM_HORIZON"}
    else:
        position = {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": sequence_number}
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, **position)["ShardIterator"]
    found = streams.get_records(ShardIterator=iterator, Limit=1)["Records"]
    if found and sequence_number in (None, found[0]["dynamodb"]["SequenceNumber"]):
        return found[0]
    return None


def _last_record(stream_arn: str, shard_id: str) -> dict[str, Any] | None:
    """The newest record of a shard, found in a few single-record reads rather than by reading the
    whole shard (seconds for the seeded tables). It relies on the embedded AWS numbering a shard's
    records consecutively, as moto does; DynamoDB's sequence numbers only increase."""
    last = _record_at(stream_arn, shard_id, None)
    if last is None:
        return None
    # Gallop past the end, then halve the gap: lower holds a record, upper does not.
    lower, step = int(last["dynamodb"]["SequenceNumber"]), 1
    while (found := _record_at(stream_arn, shard_id, str(lower + step))) is not None:
        lower, last, step = lower + step, found, step * 2
    upper = lower + step
    while upper - lower > 1:
        middle = (lower + upper) // 2
        if (found := _record_at(stream_arn, shard_id, str(middle))) is not None:
            lower, last = middle, found
        else:
            upper = middle
    return last


class StreamPoller(_Poller):
    """Reads every shard of a table's stream and hands batches to the function; follows the stream
    when the table's stream, its shards or the shard objects behind the iterators change."""

    def __init__(self, *args: Any, batch_size: int, retry_attempts: int, resync_every: float = 2.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.batch_size, self.retry_attempts, self.resync_every = batch_size, retry_attempts, resync_every
        self.stream_arn: str | None = None
        self._readers: dict[tuple[str, str], _ShardReader] = {}
        self._waiting_for = ""  # why the table's stream cannot be read, as last noted
        self._next_resync = 0.0
        # Here rather than in the thread, so that what is written once start() returns is delivered.
        self._resync(start_at_end=True)

    def poll_once(self) -> bool:
        resync_due = time.monotonic() >= self._next_resync
        if resync_due:
            self._resync()
        busy = False
        for key, reader in list(self._readers.items()):
            if reader.iterator is not None and len(reader.pending) < self.batch_size:
                # A shard whose reads found nothing since the last resync is checked against a fresh
                # iterator: the table may be writing to a shard object the held iterator no longer sees.
                self._read(reader, probe=resync_due and reader.idle)
            if reader.pending:
                busy = True
                self._deliver(reader)
            elif reader.iterator is None:
                del self._readers[key]
        return busy

    # -- reading ---------------------------------------------------------------------------------

    def _read(self, reader: _ShardReader, *, probe: bool) -> None:
        streams = client("dynamodbstreams")
        limit = self.batch_size - len(reader.pending)
        try:
            # Probe with a fresh iterator first, then read with the held one: read later from the same
            # place in the same shard, the held iterator sees at least what the probe saw.
            ahead = probe and bool(self._records_after(reader, limit=1))
            answer = streams.get_records(ShardIterator=reader.iterator, Limit=limit)
            records = answer["Records"]
            if records:
                # After a cancelled transaction a held iterator reads moto's discarded copy of the
                # shard: the records it had, then the undone writes. The last record read tells.
                last = records[-1]
                found = _record_at(reader.stream_arn, reader.shard_id, last["dynamodb"]["SequenceNumber"])
                stale = found is None or found["eventID"] != last["eventID"]
            else:
                stale = ahead
        except ClientError as exc:  # an expired or refused iterator, or the stream is gone
            self._resync(trouble=f"reading the stream was refused ({_error_code(exc)})")
            return
        if stale:
            self._resync(trouble="reads no longer saw what the table wrote (its stream shard was replaced, "
                                 "as by a cancelled transaction)")
            return
        reader.iterator = answer.get("NextShardIterator")  # None: a closed shard, read to its end
        reader.idle = not records
        reader.accept(records, self.mapping.event_names)

    def _records_after(self, reader: _ShardReader, *, limit: int) -> list[dict[str, Any]]:
        """Up to LIMIT records after the last one READER read, through a new iterator."""
        streams = client("dynamodbstreams")
        if reader.read:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": reader.read[-1][0]}
        else:
            position = {"ShardIteratorType": "TRIM_HORIZON"}
        iterator = streams.get_shard_iterator(StreamArn=reader.stream_arn, ShardId=reader.shard_id,
                                              **position)["ShardIterator"]
        return streams.get_records(ShardIterator=iterator, Limit=limit)["Records"]

    # -- following the table's stream ------------------------------------------------------------

    def _resync(self, *, trouble: str = "", start_at_end: bool = False) -> None:
        """Compare the table's stream and shards with what is read, follow what changed and note it.

        TROUBLE says why the iterators of the current stream cannot be trusted: they are replaced by
        new ones just after the newest record read that the shard still has."""
        self._next_resync = time.monotonic() + self.resync_every
        stream_arn = self._table_stream_arn()
        if stream_arn is None:
            return
        if stream_arn != self.stream_arn:
            self._follow_new_stream(stream_arn, start_at_end)
            return
        shard_ids = self._shard_ids(stream_arn)
        open_readers = {reader.shard_id: reader for reader in self._readers.values()
                        if reader.stream_arn == stream_arn and reader.iterator is not None}
        added = [shard_id for shard_id in shard_ids if shard_id not in open_readers]
        gone = [shard_id for shard_id in open_readers if shard_id not in shard_ids]
        changes = []
        if added or gone:
            for shard_id in gone:
                self._close(open_readers.pop(shard_id))
            for shard_id in added:
                self._open(stream_arn, shard_id, at_end=False)
            changes.append(f"the stream's shards changed (new: {', '.join(added) or 'none'}; "
                           f"gone: {', '.join(gone) or 'none'}); new shards are read from their first record")
        if trouble:
            resumed = [f"shard {reader.shard_id} {self._resume(reader)}" for reader in open_readers.values()]
            changes.append(f"{trouble}; resumed {', '.join(resumed)}")
        if changes:
            self.note("; ".join(changes))

    def _table_stream_arn(self) -> str | None:
        """The table's current stream, or None (noted once) while there is no table or no stream."""
        try:
            table = client("dynamodb").describe_table(TableName=self.mapping.resource)["Table"]
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            return self._wait("the table does not exist (deleted?)")
        if not table.get("StreamSpecification", {}).get("StreamEnabled") or not table.get("LatestStreamArn"):
            return self._wait("the table has no stream enabled")
        self._waiting_for = ""
        return table["LatestStreamArn"]

    def _wait(self, reason: str) -> None:
        if reason != self._waiting_for:
            for reader in self._readers.values():
                self._close(reader)
            undelivered = sum(len(reader.pending) for reader in self._readers.values())
            self.note(f"waiting: {reason}; checking every {self.resync_every:g} s"
                      + (f"; {undelivered} record(s) read before are still delivered" if undelivered else ""))
            self._waiting_for = reason
        return None

    def _follow_new_stream(self, stream_arn: str, start_at_end: bool) -> None:
        """A stream not read before: at the start of the run from its end (as Lambda's LATEST), else
        (the table was recreated, or its stream enabled again) from its first record."""
        for reader in self._readers.values():
            self._close(reader)
        undelivered = sum(len(reader.pending) for reader in self._readers.values())
        previous, self.stream_arn = self.stream_arn, stream_arn
        for shard_id in self._shard_ids(stream_arn):
            self._open(stream_arn, shard_id, at_end=start_at_end)
        if start_at_end:
            return
        self.note(f"the table's stream is now {stream_arn} (was {previous or 'none'}; the table was recreated "
                  "or its stream enabled again); reading it from its first record"
                  + (f"; {undelivered} record(s) read from the old stream are still delivered" if undelivered else ""))

    def _shard_ids(self, stream_arn: str) -> list[str]:
        streams = client("dynamodbstreams")
        shard_ids: list[str] = []
        start: dict[str, str] = {}
        while True:
            description = streams.describe_stream(StreamArn=stream_arn, **start)["StreamDescription"]
            shard_ids += [shard["ShardId"] for shard in description["Shards"]]
            if not description.get("LastEvaluatedShardId"):
                return shard_ids
            start = {"ExclusiveStartShardId": description["LastEvaluatedShardId"]}

    def _open(self, stream_arn: str, shard_id: str, *, at_end: bool) -> None:
        """A reader for a shard, at its first record, or AT_END: after its last one (as LATEST, but at a
        known sequence number, which a later resume needs)."""
        streams = client("dynamodbstreams")
        reader = _ShardReader(stream_arn, shard_id, None)
        last = _last_record(stream_arn, shard_id) if at_end else None
        if last is None:
            position = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            reader.read.append((last["dynamodb"]["SequenceNumber"], last["eventID"]))
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": reader.read[-1][0]}
        reader.iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id,
                                                     **position)["ShardIterator"]
        self._readers[(stream_arn, shard_id)] = reader

    def _close(self, reader: _ShardReader) -> None:
        """The shard is no longer the table's: take what its iterator still holds, then only deliver."""
        try:
            while reader.iterator:
                answer = client("dynamodbstreams").get_records(ShardIterator=reader.iterator, Limit=1000)
                if not answer["Records"]:
                    break
                reader.accept(answer["Records"])
                reader.iterator = answer.get("NextShardIterator")
        except ClientError:
            pass  # the old stream can no longer be read: what was read is all there is
        reader.iterator = None

    def _resume(self, reader: _ShardReader) -> str:
        """A new iterator for READER's shard, just after the newest record read that the shard still has
        (same sequence number, same eventID); where it resumed, in words."""
        streams = client("dynamodbstreams")
        dropped = 0
        while reader.read:
            sequence_number, event_id = reader.read[-1]
            try:
                found = _record_at(reader.stream_arn, reader.shard_id, sequence_number)
            except ClientError as exc:
                if _error_code(exc) != "TrimmedDataAccessException":
                    raise
                found = None
            if found is not None and found["eventID"] == event_id:
                reader.iterator = streams.get_shard_iterator(
                    StreamArn=reader.stream_arn, ShardId=reader.shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=sequence_number)["ShardIterator"]
                return f"after sequence number {sequence_number}"
            # Not in the shard: a write the table undid (moto streams a cancelled transaction's writes
            # to the copy it discards). It is not delivered, and its place is read again.
            reader.read.pop()
            dropped += 1
            reader.pending = [record for record in reader.pending if record["eventID"] != event_id]
            reader.attempts = 0
        reader.iterator = streams.get_shard_iterator(StreamArn=reader.stream_arn, ShardId=reader.shard_id,
                                                     ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        if dropped:
            return f"from its first record (none of the {dropped} record(s) read last are in it)"
        return "from its first record (nothing was read from it before)"

    # -- delivering ------------------------------------------------------------------------------

    def _deliver(self, reader: _ShardReader) -> None:
        pending = reader.pending
        batch = pending[: self.batch_size]
        try:
            failed = failed_identifiers(self.invoke({"Records": batch}))
        except Exception as exc:  # the whole batch failed, as an unhandled error in Lambda
            self.note(f"invocation failed: {exc!r}")
            failed = [batch[0]["dynamodb"]["SequenceNumber"]]
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        if not failed:
            del pending[: len(batch)]
            self.delivered += len(batch)
            reader.attempts = 0
            return
        # As with ReportBatchItemFailures: everything before the first failed record is done; the
        # batch is retried from there.
        first = min((sequence_numbers.index(number) for number in failed if number in sequence_numbers), default=0)
        if first:
            del pending[:first]
            self.delivered += first
            reader.attempts = 0
        reader.attempts += 1
        head = pending[0]["dynamodb"]["SequenceNumber"]
        if reader.attempts > self.retry_attempts:
            self.note(f"record {head} failed {reader.attempts} times; skipped (the on-failure destination in AWS)")
            del pending[0]
            reader.attempts = 0
        else:
            self.stop_event.wait(min(0.2 * 2 ** reader.attempts, 2.0))


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
                 resync_every: float = 2.0, log: TextIO | None = None):
        self.names = names
        self.functions = functions
        self.interval = interval
        self.resync_every = resync_every
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
                    resync_every=self.resync_every,
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
