"""S3 events in every shape: created objects only, keys decoded, test events ignored, anything else unreadable."""

from __future__ import annotations

import json

import pytest

from finscore.notifications import UnreadableMessage, created_objects


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


def test_s3s_own_event_as_a_mapping_is_read_like_the_queued_one():
    event = {"Records": [{"eventSource": "aws:s3", **record("ObjectCreated:Put", "incoming/risk/a+b.csv")}]}

    assert created_objects(event) == [("data", "incoming/risk/a b.csv")]


def test_an_sns_wrapped_notification_is_unwrapped():
    body = json.dumps({"Type": "Notification", "Message": json.dumps({"Records": [record("ObjectCreated:Copy", "k%3D1")]})})

    assert created_objects(body) == [("data", "k=1")]


def test_eventbridge_object_created_gives_its_object_and_other_detail_types_none():
    event = {"source": "aws.s3", "detail-type": "Object Created",
             "detail": {"bucket": {"name": "data"}, "object": {"key": "incoming/risk/x+y.csv"}}}

    assert created_objects(event) == [("data", "incoming/risk/x y.csv")]
    assert created_objects({**event, "detail-type": "Object Deleted"}) == []


@pytest.mark.parametrize("message, reason", [
    ("hello", "not JSON"),
    (json.dumps({"greeting": "hello"}), "no Records"),
    (json.dumps(["a", "list"]), "a JSON list"),
    (json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]}), r"Records\[0\] is not an S3 event record"),
    (json.dumps({"Records": [record("ObjectCreated:Put", "")]}), "no object key"),
    ({"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": {"key": "k"}}}, "no bucket name"),
])
def test_what_is_no_s3_event_is_unreadable_with_the_reason(message, reason):
    with pytest.raises(UnreadableMessage, match=reason):
        created_objects(message)
