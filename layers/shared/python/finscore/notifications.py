"""S3 "object created" events in every shape a FinScore function receives them, and their processing.

- an SQS message whose body is S3's event notification: the deployed path (bucket -> queue ->
  function), also wrapped in an SNS notification when a topic sits between; S3 sends one
  s3:TestEvent when the notification is configured;
- S3's event itself, when S3 invokes the function directly or a user invokes it with what
  `sam local generate-event s3 put` prints: {"Records": [{"eventSource": "aws:s3", "s3": {...}}]};
- EventBridge's "Object Created" event (source aws.s3), for buckets that send their events there.

Keys arrive URL-encoded (a space as '+') and are decoded here.

In a batch of SQS messages each message stands alone: one that is not an S3 event can never succeed,
so it is logged with its reason, counted (metric UnreadableMessages) and acknowledged instead of being
retried until the dead-letter queue; one whose processing fails (a dependency unreachable, no model
yet) is reported as a batch item failure (ReportBatchItemFailures), so that only it comes back.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from finscore.observability import logger, metrics

TEST_EVENT = "s3:TestEvent"
EVENTBRIDGE_SOURCE = "aws.s3"
EVENTBRIDGE_OBJECT_CREATED = "Object Created"
# How much of an unreadable message goes into its log line: enough to recognise it.
LOGGED_BODY_CHARS = 500

# One created object: (bucket, key) in, whatever the function makes of it out.
ProcessObject = Callable[[str, str], Any]


class UnreadableMessage(ValueError):
    """The message or event is no S3 event: retrying it cannot help."""


def _key(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise UnreadableMessage(f"{where} has no object key")
    return unquote_plus(value)


def _bucket(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise UnreadableMessage(f"{where} has no bucket name")
    return value


def _notification_objects(notification: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    records = notification.get("Records")
    if not isinstance(records, list):
        raise UnreadableMessage("not an S3 event notification: no Records")
    for index, record in enumerate(records):
        where = f"Records[{index}]"
        if not isinstance(record, Mapping) or not isinstance(record.get("s3"), Mapping):
            raise UnreadableMessage(f"{where} is not an S3 event record (no s3)")
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue  # removals and other events of the same configuration concern no new file
        s3 = record["s3"]
        yield (_bucket((s3.get("bucket") or {}).get("name"), f"{where}.s3.bucket"),
               _key((s3.get("object") or {}).get("key"), f"{where}.s3.object"))


def created_objects(message: Mapping[str, Any] | str) -> list[tuple[str, str]]:
    """(bucket, key) of every created object in MESSAGE: an S3 event notification (as a mapping or as
    an SQS message body), its SNS wrapping, or EventBridge's Object Created event. S3's test event
    holds none; anything else is UnreadableMessage."""
    if isinstance(message, (str, bytes)):
        try:
            message = json.loads(message)
        except json.JSONDecodeError as exc:
            raise UnreadableMessage(f"not JSON, so not an S3 event notification: {exc.msg}") from exc
    if not isinstance(message, Mapping):
        raise UnreadableMessage(f"not an S3 event notification: a JSON {type(message).__name__}")
    if message.get("Type") == "Notification" and isinstance(message.get("Message"), str):
        return created_objects(message["Message"])
    if message.get("Event") == TEST_EVENT:
        return []
    if message.get("source") == EVENTBRIDGE_SOURCE:
        if message.get("detail-type") != EVENTBRIDGE_OBJECT_CREATED:
            return []
        detail = message.get("detail") if isinstance(message.get("detail"), Mapping) else {}
        # S3 URL-encodes the key here as in its notifications.
        return [(_bucket((detail.get("bucket") or {}).get("name"), "detail.bucket"),
                 _key((detail.get("object") or {}).get("key"), "detail.object"))]
    return list(_notification_objects(message))


def is_sqs_event(event: Mapping[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and bool(records) and all(
        isinstance(record, Mapping) and record.get("eventSource") == "aws:sqs" for record in records)


def process_s3_event(event: Mapping[str, Any], process: ProcessObject, context: Any) -> dict[str, Any]:
    """Run PROCESS on every created object of EVENT, whatever its shape.

    An SQS batch answers {"batchItemFailures": [...]}: the messages whose processing failed, to be
    retried alone; unreadable ones are logged and acknowledged. A direct S3 or EventBridge event answers
    {"processed": [...]} and raises when an object fails, so that Lambda's retries and failure
    destination take the event; an event of no known shape is UnreadableMessage.
    """
    if is_sqs_event(event):
        processor = BatchProcessor(event_type=EventType.SQS)
        return process_partial_response(event=dict(event), record_handler=lambda record: _process_message(record, process),
                                        processor=processor, context=context)
    return {"processed": [process(bucket, key) for bucket, key in created_objects(event)]}


def _process_message(record: SQSRecord, process: ProcessObject) -> list[Any]:
    try:
        objects = created_objects(record.body)
    except UnreadableMessage as exc:
        logger.error("Unreadable message acknowledged and dropped: it can never be processed", extra={
            "message_id": record.message_id, "reason": str(exc), "body": (record.body or "")[:LOGGED_BODY_CHARS],
            "queue": record.event_source_arn,
        })
        metrics.add_metric(name="UnreadableMessages", unit=MetricUnit.Count, value=1)
        return []
    if not objects:
        logger.info("S3 test event or no created object: nothing to do", extra={"message_id": record.message_id})
    return [process(bucket, key) for bucket, key in objects]
