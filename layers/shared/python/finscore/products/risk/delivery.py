"""Intervention delivery: SMS and app push through SNS, email through SES, each sent at most once.

Before sending, delivery claims the intervention with a conditional update queued -> sending; only
the one claimant that wins sends, then records sent with the provider's message id (or failed with
the reason). A redelivered stream record, a retried batch or a second consumer finds the
intervention no longer queued and sends nothing. The price of at-most-once is that a crash between
the claim and the send leaves the intervention in `sending`, visible to operators, rather than risk
a customer receiving the same message twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.observability import logger
from finscore.products.risk.interventions import iso, utc_now
from finscore.dynamo import ConditionFailed, deserialize
from finscore.products.risk.repository import InterventionStore
from finscore.products.risk.settings import DeliverySettings
from finscore.settings import load_settings

Outcome = Literal["sent", "failed", "skipped"]


@dataclass(frozen=True)
class DeliveryResult:
    intervention_id: str
    outcome: Outcome
    provider_message_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Senders:
    """Where messages go: the app push topic, the SES sender identity, and the DLT registration
    (entity id, template id) that Indian carriers require of SMS to +91 numbers; empty when unset."""

    app_push_topic_arn: str
    sender_email: str
    sms_entity_id: str = ""
    sms_template_id: str = ""


INDIA_PREFIX = "+91"


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def sms_attributes(senders: Senders, phone: str) -> dict[str, dict[str, str]]:
    """SNS message attributes of an SMS to PHONE: transactional, and for +91 numbers the DLT ids
    (TRAI's registration) that carriers check on local routes."""
    attributes = {"AWS.SNS.SMS.SMSType": _string("Transactional")}
    if phone.startswith(INDIA_PREFIX):
        if senders.sms_entity_id:
            attributes["AWS.MM.SMS.EntityId"] = _string(senders.sms_entity_id)
        if senders.sms_template_id:
            attributes["AWS.MM.SMS.TemplateId"] = _string(senders.sms_template_id)
    return attributes


def send_sms(senders: Senders, phone: str, text: str) -> str:
    answer = client("sns").publish(PhoneNumber=phone, Message=text, MessageAttributes=sms_attributes(senders, phone))
    return answer["MessageId"]


def send_push(topic_arn: str, intervention: Mapping[str, Any]) -> str:
    """Publish to the app push topic; subscribers filter on the customer_id message attribute."""
    payload = {
        "intervention_id": intervention["intervention_id"],
        "customer_id": intervention["customer_id"],
        "title": intervention.get("subject") or "",
        "body": intervention["message"],
        "language": intervention.get("language", "en"),
    }
    answer = client("sns").publish(
        TopicArn=topic_arn,
        Message=json.dumps(payload, ensure_ascii=False),
        MessageAttributes={"customer_id": {"DataType": "String", "StringValue": intervention["customer_id"]}},
    )
    return answer["MessageId"]


def send_email(sender: str, recipient: str, subject: str, text: str) -> str:
    answer = client("ses").send_email(
        Source=sender,
        Destination={"ToAddresses": [recipient]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
        },
    )
    return answer["MessageId"]


def send(senders: Senders, intervention: Mapping[str, Any]) -> str:
    channel = intervention["channel"]
    if channel == "sms":
        return send_sms(senders, intervention["destination"], intervention["message"])
    if channel == "email":
        return send_email(senders.sender_email, intervention["destination"], intervention.get("subject") or "",
                          intervention["message"])
    if channel == "app":
        return send_push(senders.app_push_topic_arn, intervention)
    raise ValueError(f"unknown channel {channel!r}")


def deliver(store: InterventionStore, senders: Senders, intervention: Mapping[str, Any]) -> DeliveryResult:
    """Send a queued INTERVENTION once: claim, send, record."""
    intervention_id = intervention["intervention_id"]
    if intervention.get("status") != "queued":
        return DeliveryResult(intervention_id, "skipped", reason=f"status is {intervention.get('status')}")
    try:
        store.transition(intervention_id, "queued", "sending", {"status": "sending", "at": iso(utc_now())})
    except ConditionFailed:
        # Another delivery (a redelivered record, a retried batch) claimed it first.
        return DeliveryResult(intervention_id, "skipped", reason="already claimed")
    try:
        message_id = send(senders, intervention)
    except (ClientError, BotoCoreError, ValueError, KeyError) as exc:
        # Whether the provider accepted the message is unknown, so it is never sent again.
        reason = f"send failed: {exc}"
        logger.warning("Intervention not delivered", extra={"intervention_id": intervention_id, "reason": reason})
        store.transition(intervention_id, "sending", "failed", {"status": "failed", "at": iso(utc_now()),
                                                                   "note": reason[:500]})
        return DeliveryResult(intervention_id, "failed", reason=reason)
    store.transition(intervention_id, "sending", "sent",
                     {"status": "sent", "at": iso(utc_now()), "provider_message_id": message_id},
                     {"provider_message_id": message_id})
    logger.info("Intervention sent", extra={"intervention_id": intervention_id, "channel": intervention["channel"]})
    return DeliveryResult(intervention_id, "sent", provider_message_id=message_id)


@lru_cache(maxsize=1)
def delivery_context() -> tuple[InterventionStore, Senders]:
    """The delivery function's interventions table and senders, from its settings."""
    settings = load_settings(DeliverySettings)
    return InterventionStore(settings.interventions_table), Senders(
        settings.app_push_topic_arn, settings.sender_email, settings.sms_entity_id, settings.sms_template_id
    )


def deliver_stream_record(record: Mapping[str, Any]) -> DeliveryResult | None:
    """A DynamoDB stream record of the interventions table: a newly inserted intervention is delivered.

    Status changes (MODIFY) and removals are not deliveries; they are left to the live broadcaster.
    """
    if record.get("eventName") != "INSERT":
        return None
    image = record.get("dynamodb", {}).get("NewImage")
    if not image:
        raise ValueError("INSERT record without NewImage: the stream must carry new images")
    store, senders = delivery_context()
    return deliver(store, senders, deserialize(image))
