"""Interventions are sent at most once: a redelivered stream record or a replayed request never sends twice.

Messages are counted in moto's SNS and SES backends, where the embedded AWS keeps what was sent.
"""

from __future__ import annotations

import copy
import json

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from finscore.aws import client
from finscore.products.risk import delivery, service
from finscore.dynamo import deserialize, serialize
from finscore.products.risk.repository import CustomerStore, InterventionStore
from finscore.products.risk.settings import DEFAULT_SENDER_EMAIL
from tests.handlers import FakeContext, invoke, load_event, load_handler

DELIVERY = "intervention_delivery"
CUSTOMERS = [
    {"customer_id": "C000002", "name": "Priya Sharma", "age": 34, "city": "Pune", "phone": "+919812345678",
     "email": "priya.sharma@example.in", "preferred_language": "hi", "preferred_channel": "sms",
     "monthly_income": 52000.0, "credit_limit": 150000.0, "opened_at": "2019-04-01",
     "risk_score": 86.4, "risk_level": "critical"},
    {"customer_id": "C000003", "name": "Rahul Verma", "age": 41, "city": "Lucknow", "phone": "+919876500011",
     "email": "rahul.verma@example.in", "preferred_language": "en", "preferred_channel": "app",
     "monthly_income": 88000.0, "credit_limit": 300000.0, "opened_at": "2016-09-12",
     "risk_score": 64.0, "risk_level": "high"},
]


@pytest.fixture
def senders(aws, monkeypatch):
    """The app push topic and a verified SES sender, as the stack provides them; the customers to contact."""
    topic_arn = client("sns").create_topic(Name="finscore-local-app-push-topic")["TopicArn"]
    client("ses").verify_email_identity(EmailAddress=DEFAULT_SENDER_EMAIL)
    monkeypatch.setenv("APP_PUSH_TOPIC_ARN", topic_arn)
    CustomerStore(aws["RISK_CUSTOMERS_TABLE"]).put_many(CUSTOMERS)
    service.reset()
    delivery.delivery_context.cache_clear()
    yield topic_arn
    service.reset()
    delivery.delivery_context.cache_clear()


def sms_sent() -> list[tuple[str, str]]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())


def emails_sent() -> list:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def pushes_sent(topic_arn: str) -> list:
    return sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[topic_arn].sent_notifications


def stream_event(*items: dict, event_name: str = "INSERT") -> dict:
    """events/intervention_delivery/stream-insert.json carrying ITEMS as new images."""
    template = load_event(DELIVERY, "stream-insert")["Records"][0]
    records = []
    for number, item in enumerate(items, start=1):
        record = copy.deepcopy(template)
        record["eventName"] = event_name
        record["dynamodb"]["Keys"] = {"intervention_id": {"S": item["intervention_id"]}}
        record["dynamodb"]["NewImage"] = serialize(item)
        record["dynamodb"]["SequenceNumber"] = f"2000000000000000000{number:04d}"
        records.append(record)
    return {"Records": records}


def stored(aws) -> list[dict]:
    return InterventionStore(aws["INTERVENTIONS_TABLE"]).page(customer_id=None, status=None, limit=100, cursor=None).items


def invoke_delivery(event: dict) -> dict:
    return load_handler(DELIVERY).lambda_handler(event, FakeContext())


def test_a_redelivered_stream_record_sends_nothing_twice(aws, senders):
    status, created = invoke("risk_api", load_event("risk_api", "intervention-create"))
    assert status == 201, created
    [item] = stored(aws)
    record = stream_event(item)

    first = invoke_delivery(record)
    second = invoke_delivery(record)
    duplicated = invoke_delivery(stream_event(item, item))

    assert first == second == duplicated == {"batchItemFailures": []}
    messages = sms_sent()
    assert len(messages) == 1
    phone, text = messages[0]
    assert phone == "+919812345678" and text == item["message"]
    [after] = stored(aws)
    assert after["status"] == "sent" and after["provider_message_id"]
    assert [entry["status"] for entry in after["history"]] == ["queued", "sending", "sent"]


def test_a_replayed_intervention_request_sends_once(aws, senders):
    event = load_event("risk_api", "intervention-create")
    statuses = [invoke("risk_api", copy.deepcopy(event))[0] for _ in range(3)]

    items = stored(aws)
    invoke_delivery(stream_event(*items))
    invoke_delivery(stream_event(*items))

    assert statuses == [201, 200, 200]
    assert len(items) == 1
    assert len(sms_sent()) == 1


def test_the_sample_stream_event_is_delivered_once(aws, senders):
    event = load_event(DELIVERY, "stream-insert")
    image = event["Records"][0]["dynamodb"]["NewImage"]
    client("dynamodb").put_item(TableName=aws["INTERVENTIONS_TABLE"], Item=image)

    invoke_delivery(event)
    invoke_delivery(event)

    assert [phone for phone, _ in sms_sent()] == ["+919812345678"]


def test_a_record_for_an_intervention_not_in_the_table_sends_nothing(aws, senders):
    result = invoke_delivery(load_event(DELIVERY, "stream-insert"))

    assert result == {"batchItemFailures": []}
    assert sms_sent() == []


def test_status_changes_are_not_deliveries(aws, senders):
    invoke_delivery(load_event(DELIVERY, "stream-modify"))

    assert sms_sent() == []


def test_email_goes_through_ses_and_app_push_through_the_topic(aws, senders):
    invoke("risk_api", load_event("risk_api", "intervention-create-email"))
    push_request = load_event("risk_api", "intervention-create-email")
    push_request["body"] = json.dumps({"customer_id": "C000003", "channel": "app"})
    push_request["headers"]["Idempotency-Key"] = "example-intervention-push"
    push_request["multiValueHeaders"]["Idempotency-Key"] = ["example-intervention-push"]
    assert invoke("risk_api", push_request)[0] == 201

    items = stored(aws)
    invoke_delivery(stream_event(*items))
    invoke_delivery(stream_event(*items))

    [email] = emails_sent()
    assert email.destinations["ToAddresses"] == ["rahul.verma@example.in"]
    assert email.source == DEFAULT_SENDER_EMAIL
    [push] = pushes_sent(senders)
    payload = json.loads(push[1])
    assert payload["customer_id"] == "C000003" and payload["title"]
    assert "C000003" in json.dumps(push[3]["customer_id"])  # the attribute subscribers filter on
    assert {item["status"] for item in stored(aws)} == {"sent"}


def test_a_rejected_send_is_recorded_failed_and_never_retried(aws, senders, monkeypatch):
    monkeypatch.setenv("SENDER_EMAIL", "unverified@finscore.example")
    delivery.delivery_context.cache_clear()
    invoke("risk_api", load_event("risk_api", "intervention-create-email"))
    [item] = stored(aws)

    first = invoke_delivery(stream_event(item))
    invoke_delivery(stream_event(item))

    assert first == {"batchItemFailures": []}
    assert emails_sent() == []
    [after] = stored(aws)
    assert after["status"] == "failed"
    assert [entry["status"] for entry in after["history"]] == ["queued", "sending", "failed"]


def test_a_record_that_cannot_be_processed_fails_alone(aws, senders):
    invoke("risk_api", load_event("risk_api", "intervention-create"))
    [item] = stored(aws)
    event = stream_event(item, item)
    del event["Records"][0]["dynamodb"]["NewImage"]

    result = invoke_delivery(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}
    assert len(sms_sent()) == 1


@pytest.fixture
def sms_published(aws):
    """The parameters of every SNS Publish call as sent (moto keeps an SMS's number and text only)."""
    calls: list[dict] = []
    sns = client("sns")

    def record(params, **_):
        calls.append(params)

    sns.meta.events.register("provide-client-params.sns.Publish", record)
    yield calls
    sns.meta.events.unregister("provide-client-params.sns.Publish", record)


def test_sms_to_india_carries_the_dlt_ids_and_other_numbers_do_not(aws, senders, sms_published, monkeypatch):
    # Given the DLT registration in the delivery function's settings (cdk.json smsEntityId, smsTemplateId)
    monkeypatch.setenv("SMS_ENTITY_ID", "1101456789012345678")
    monkeypatch.setenv("SMS_TEMPLATE_ID", "1107456789012345678")
    delivery.delivery_context.cache_clear()
    sample = deserialize(load_event(DELIVERY, "stream-insert")["Records"][0]["dynamodb"]["NewImage"])
    items = [{**sample, "intervention_id": f"iv-dlt-{number}", "destination": phone}
             for number, phone in enumerate(("+919812345678", "+447700900123"), start=1)]
    for item in items:
        client("dynamodb").put_item(TableName=aws["INTERVENTIONS_TABLE"], Item=serialize(item))

    # When both are delivered
    event = stream_event(*items)
    assert invoke_delivery(event) == {"batchItemFailures": []}

    # Then the +91 number's SMS names the registration and the other number's does not
    attributes = {call["PhoneNumber"]: call["MessageAttributes"] for call in sms_published}
    india = attributes["+919812345678"]
    assert india["AWS.MM.SMS.EntityId"] == {"DataType": "String", "StringValue": "1101456789012345678"}
    assert india["AWS.MM.SMS.TemplateId"] == {"DataType": "String", "StringValue": "1107456789012345678"}
    other = attributes["+447700900123"]
    assert not any(name.startswith("AWS.MM.SMS.") for name in other)
    assert india["AWS.SNS.SMS.SMSType"] == other["AWS.SNS.SMS.SMSType"]
    assert sorted(phone for phone, _ in sms_sent()) == ["+447700900123", "+919812345678"]


def test_without_a_dlt_registration_sms_to_india_sends_no_empty_ids(aws, senders, sms_published):
    event = load_event(DELIVERY, "stream-insert")
    client("dynamodb").put_item(TableName=aws["INTERVENTIONS_TABLE"], Item=event["Records"][0]["dynamodb"]["NewImage"])

    invoke_delivery(event)

    [call] = sms_published
    assert set(call["MessageAttributes"]) == {"AWS.SNS.SMS.SMSType"}
