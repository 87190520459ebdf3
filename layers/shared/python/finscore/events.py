"""Model lifecycle events on EventBridge: ModelRegistered, ModelPromoted, ModelRejected, DriftDetected.

Every event has source resources.EVENT_SOURCE and goes to the bus named by EVENT_BUS_NAME (the
account's default bus when unset); rules route DriftDetected to retraining and anything to alerting.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Mapping

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from finscore import resources
from finscore.aws import client
from finscore.errors import ServiceUnavailable
from finscore.settings import FunctionSettings, load_settings

MODEL_REGISTERED = "ModelRegistered"
MODEL_PROMOTED = "ModelPromoted"
MODEL_REJECTED = "ModelRejected"
DRIFT_DETECTED = "DriftDetected"
DETAIL_TYPES = (MODEL_REGISTERED, MODEL_PROMOTED, MODEL_REJECTED, DRIFT_DETECTED)
DEFAULT_BUS = "default"


class EventSettings(FunctionSettings):
    event_bus: Annotated[str | None, Field(alias=resources.EVENT_BUS_ENV)] = None


def event_bus() -> str:
    return load_settings(EventSettings).event_bus or DEFAULT_BUS


def publish_event(detail_type: str, detail: Mapping[str, Any]) -> None:
    """Put one lifecycle event; a failed entry is an error, not a silent loss."""
    if detail_type not in DETAIL_TYPES:
        raise ValueError(f"Unknown lifecycle event {detail_type!r}; known: {', '.join(DETAIL_TYPES)}")
    entry = {
        "Source": resources.EVENT_SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail, default=str),
        "EventBusName": event_bus(),
    }
    try:
        response = client("events").put_events(Entries=[entry])
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot publish {detail_type} to EventBridge: {exc}") from exc
    if response.get("FailedEntryCount"):
        failure = response["Entries"][0]
        raise ServiceUnavailable(
            f"EventBridge refused {detail_type}: {failure.get('ErrorCode')} {failure.get('ErrorMessage')}"
        )
