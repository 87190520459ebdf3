"""S3 event notifications as they arrive through SQS: which objects were created, in which bucket."""

from __future__ import annotations

import json
from typing import Iterator
from urllib.parse import unquote_plus


def created_objects(body: str) -> Iterator[tuple[str, str]]:
    """(bucket, key) of every ObjectCreated record in one SQS message body.

    Keys arrive URL-encoded (a space as '+'); S3's test event carries no records. A body that is not a
    notification is a ValueError, so the message fails and reaches the dead-letter queue.
    """
    try:
        notification = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"message body is not an S3 event notification: {exc.msg}") from exc
    if notification.get("Event") == "s3:TestEvent":
        return
    for record in notification.get("Records", []):
        if str(record.get("eventName", "")).startswith("ObjectCreated"):
            yield record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])
