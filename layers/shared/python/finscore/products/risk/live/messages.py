"""Which table changes are pushed to dashboards, and the messages they become (pure).

Pushed: a customer whose risk level becomes high or critical, or whose score rises while high or
critical; a new intervention, or one whose status changes. Everything else (scores that fall, low
and medium levels, profile edits, deletions) is not news for a dashboard watching risk.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from finscore.products.risk.spec import CUSTOMERS_TABLE, INTERVENTIONS_TABLE

ALERT_LEVELS = ("high", "critical")


def message_for_change(
    event_name: str, keys: Mapping[str, Any], new_image: Mapping[str, Any], old_image: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The message for one stream record (images already deserialized), or None when nothing is pushed.

    The source table is told apart by its key: both streams feed one broadcaster.
    """
    if event_name == "REMOVE" or not new_image:
        return None
    if INTERVENTIONS_TABLE.partition_key.name in keys:
        return _intervention_message(event_name, new_image, old_image)
    if CUSTOMERS_TABLE.partition_key.name in keys:
        return _risk_score_message(new_image, old_image)
    return None


def _risk_score_message(new: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any] | None:
    level, score = new.get("risk_level"), _number(new.get("risk_score"))
    if level not in ALERT_LEVELS or score is None:
        return None
    previous_level, previous_score = old.get("risk_level"), _number(old.get("risk_score"))
    became_alert = previous_level not in ALERT_LEVELS
    rose = previous_score is not None and score > previous_score
    if not (became_alert or rose):
        return None
    return {
        "type": "risk_score",
        "customer_id": new["customer_id"],
        "risk_score": score,
        "risk_level": level,
        "previous_level": previous_level,
        "scored_at": new.get("scored_at"),
    }


def _intervention_message(event_name: str, new: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any] | None:
    if event_name != "INSERT" and new.get("status") == old.get("status"):
        return None
    return {
        "type": "intervention",
        "intervention_id": new["intervention_id"],
        "customer_id": new.get("customer_id"),
        "status": new.get("status"),
        "channel": new.get("channel"),
        "updated_at": new.get("updated_at") or new.get("created_at"),
    }


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)
    return None
