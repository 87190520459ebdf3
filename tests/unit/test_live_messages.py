"""Which risk and intervention changes are pushed to dashboards, and the messages they become."""

from __future__ import annotations

from decimal import Decimal

import pytest

from finscore.products.risk.live.messages import message_for_change

CUSTOMER = {"customer_id": "CUST-1"}
INTERVENTION = {"intervention_id": "iv-1"}


def customer(score, level, scored_at="2026-03-14T09:30:12+00:00"):
    return {"customer_id": "CUST-1", "risk_score": Decimal(str(score)), "risk_level": level, "scored_at": scored_at}


def intervention(status, updated_at="2026-03-14T09:30:15+00:00"):
    return {"intervention_id": "iv-1", "customer_id": "CUST-1", "status": status, "channel": "sms",
            "created_at": "2026-03-14T09:30:13+00:00", "updated_at": updated_at}


def test_a_customer_becoming_high_is_pushed_with_the_previous_level():
    message = message_for_change("MODIFY", CUSTOMER, customer(72.4, "high"), customer(55, "medium"))
    assert message == {"type": "risk_score", "customer_id": "CUST-1", "risk_score": 72.4, "risk_level": "high",
                       "previous_level": "medium", "scored_at": "2026-03-14T09:30:12+00:00"}
    assert isinstance(message["risk_score"], float)


def test_a_new_critical_customer_is_pushed_without_a_previous_level():
    message = message_for_change("INSERT", CUSTOMER, customer(91, "critical"), {})
    assert message["risk_level"] == "critical" and message["previous_level"] is None


@pytest.mark.parametrize(
    ("new", "old", "pushed"),
    [
        (customer(85, "critical"), customer(75, "high"), True),  # rises while high/critical
        (customer(76, "high"), customer(75, "high"), True),
        (customer(75, "high"), customer(75, "high"), False),  # unchanged score: a profile edit
        (customer(70, "high"), customer(75, "high"), False),  # falls
        (customer(65, "high"), customer(88, "critical"), False),  # falls from critical to high
        (customer(45, "medium"), customer(20, "low"), False),  # rises but not high/critical
        ({"customer_id": "CUST-1", "name": "unscored"}, {}, False),
    ],
)
def test_only_alert_level_news_is_pushed(new, old, pushed):
    assert (message_for_change("MODIFY", CUSTOMER, new, old) is not None) is pushed


def test_removals_are_not_pushed():
    assert message_for_change("REMOVE", CUSTOMER, {}, customer(90, "critical")) is None


def test_a_new_intervention_is_pushed():
    message = message_for_change("INSERT", INTERVENTION, intervention("queued"), {})
    assert message == {"type": "intervention", "intervention_id": "iv-1", "customer_id": "CUST-1",
                       "status": "queued", "channel": "sms", "updated_at": "2026-03-14T09:30:15+00:00"}


def test_an_intervention_status_change_is_pushed_and_other_edits_are_not():
    assert message_for_change("MODIFY", INTERVENTION, intervention("sent"), intervention("queued"))["status"] == "sent"
    assert message_for_change("MODIFY", INTERVENTION, intervention("sent", "later"), intervention("sent")) is None


def test_changes_of_other_tables_are_not_pushed():
    assert message_for_change("INSERT", {"connection_id": "abc"}, {"connection_id": "abc"}, {}) is None
