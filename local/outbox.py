"""What the embedded AWS "sent": SMS and topic publishes through SNS, email through SES.

Nothing leaves the machine in the local run; moto keeps every message in memory, and this reads
them from the moto backends of this process (the embedded AWS runs in it), newest last.
"""

from __future__ import annotations

from typing import Any


def collect_outbox() -> dict[str, list[dict[str, Any]]]:
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    sms, push, email = [], [], []
    for account_backends in sns_backends.values():
        for backend in account_backends.values():
            for message_id, (phone_number, message) in list(backend.sms_messages.items()):
                sms.append({"message_id": message_id, "phone_number": phone_number, "message": message})
            for topic in list(backend.topics.values()):
                for message_id, message, subject, attributes, _ in list(topic.sent_notifications):
                    push.append({"message_id": message_id, "topic_arn": topic.arn, "subject": subject,
                                 "message": message, "attributes": attributes or {}})
    for account_backends in ses_backends.values():
        for backend in account_backends.values():
            for sent in list(backend.sent_messages):
                email.append({
                    "message_id": sent.id,
                    "source": sent.source,
                    "destinations": getattr(sent, "destinations", None),
                    "subject": getattr(sent, "subject", None),
                    "body": getattr(sent, "body", None) or getattr(sent, "raw_data", None),
                })
    return {"sms": sms, "app_push": push, "email": email}
