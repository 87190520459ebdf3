"""S3 notifications arriving through SQS: created objects only, keys decoded, test events ignored."""

from __future__ import annotations

import json

import pytest

from finscore.notifications import created_objects


def record(event: str, key: str, bucket: str = "data") -> dict:
    return {"eventName": event, "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}


def test_created_objects_come_with_decoded_keys():
    body = json.dumps({"Records": [record("ObjectCreated:Put", "incoming/risk/my+file%282%29.csv"),
                                   record("ObjectRemoved:Delete", "incoming/risk/gone.csv")]})

    assert list(created_objects(body)) == [("data", "incoming/risk/my file(2).csv")]


def test_the_s3_test_event_creates_nothing():
    assert list(created_objects(json.dumps({"Event": "s3:TestEvent", "Bucket": "data"}))) == []


def test_a_body_that_is_not_a_notification_is_refused():
    with pytest.raises(ValueError, match="not an S3 event notification"):
        list(created_objects("not json"))
