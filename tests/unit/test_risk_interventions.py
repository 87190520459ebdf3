"""Interventions under moto: idempotent creation, auto-trigger cool-down, status transitions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from finscore.errors import Conflict, InvalidRequest, NotFound, ValidationFailed
from finscore.products.risk import interventions
from finscore.products.risk.interventions import (
    TRANSITIONS,
    InterventionContext,
    InterventionsDisabled,
    auto_trigger,
    create_manual,
    record_outcome,
    utc_now,
)
from finscore.products.risk.repository import CounterStore, CustomerStore, InterventionStore
from finscore.products.risk.api_models import InterventionRequest, OutcomeRequest
from finscore.products.risk.settings import InterventionPolicy

CUSTOMER = {
    "customer_id": "C000001", "name": "Priya Sharma", "age": 34, "city": "Pune", "phone": "+919812345678",
    "email": "priya.sharma@example.in", "preferred_language": "hi", "preferred_channel": "sms",
    "monthly_income": 52000.0, "credit_limit": 150000.0, "opened_at": "2019-04-01",
    "risk_score": 86.5, "risk_level": "critical",
}


def make_context(aws, **policy) -> InterventionContext:
    counters = CounterStore(aws["RISK_COUNTERS_TABLE"])
    customers = CustomerStore(aws["RISK_CUSTOMERS_TABLE"], counters=counters)
    customers.put_many([CUSTOMER])
    return InterventionContext(
        customers=customers,
        interventions=InterventionStore(aws["INTERVENTIONS_TABLE"], aws["RISK_CUSTOMERS_TABLE"], counters),
        policy=InterventionPolicy.model_validate({"ENABLE_INTERVENTIONS": "true", **policy}),
        idempotency_table=aws["IDEMPOTENCY_TABLE"],
    )


def all_interventions(ctx) -> list[dict]:
    return ctx.interventions.page(customer_id=None, status=None, limit=100, cursor=None).items


def test_the_same_idempotency_key_creates_one_intervention(aws):
    ctx = make_context(aws)
    request = InterventionRequest(customer_id="C000001", channel="sms")

    first, first_replayed = create_manual(ctx, request, "key-1")
    second, second_replayed = create_manual(ctx, request, "key-1")

    assert (first_replayed, second_replayed) == (False, True)
    assert first == second
    assert len(all_interventions(ctx)) == 1
    assert first["status"] == "queued" and first["language"] == "hi"
    assert first["destination"] == "+91******5678"
    assert "Priya" in first["message"] and first["sms_segments"] >= 2


def test_a_key_reused_for_another_request_is_refused(aws):
    ctx = make_context(aws)
    create_manual(ctx, InterventionRequest(customer_id="C000001", channel="sms"), "key-2")

    with pytest.raises(ValidationFailed) as error:
        create_manual(ctx, InterventionRequest(customer_id="C000001", channel="email"), "key-2")

    assert error.value.details[0].field == "Idempotency-Key"
    assert len(all_interventions(ctx)) == 1


def test_the_intervention_id_follows_the_key_even_when_the_idempotency_record_is_lost(aws):
    ctx = make_context(aws)
    request = InterventionRequest(customer_id="C000001")
    first, _ = create_manual(ctx, request, "key-3")

    # The function died after writing the intervention: Powertools kept no answer for the key.
    from finscore.aws import client

    table = aws["IDEMPOTENCY_TABLE"]
    for item in client("dynamodb").scan(TableName=table)["Items"]:
        client("dynamodb").delete_item(TableName=table, Key={"id": item["id"]})
    again, _ = create_manual(ctx, request, "key-3")

    assert again["intervention_id"] == first["intervention_id"]
    assert len(all_interventions(ctx)) == 1


def offline_context(**policy) -> InterventionContext:
    """Stores on tables that do not exist: the checks under test must refuse before any AWS call."""
    return InterventionContext(customers=CustomerStore("none"), interventions=InterventionStore("none", "none"),
                               policy=InterventionPolicy.model_validate({"ENABLE_INTERVENTIONS": "true", **policy}), idempotency_table="none")


@pytest.mark.parametrize("key", [None, "", "   ", "x" * 256, "bad\nkey"])
def test_a_missing_or_malformed_key_is_a_400_naming_the_header(key):
    ctx = offline_context()

    with pytest.raises(InvalidRequest) as error:
        create_manual(ctx, InterventionRequest(customer_id="C000001"), key)

    assert error.value.details[0].field == "Idempotency-Key"


def test_an_unknown_customer_is_404(aws):
    ctx = make_context(aws)

    with pytest.raises(NotFound):
        create_manual(ctx, InterventionRequest(customer_id="C999999"), "key-4")


def test_disabled_interventions_are_refused_and_never_auto_triggered(aws):
    ctx = make_context(aws, ENABLE_INTERVENTIONS="false")

    with pytest.raises(InterventionsDisabled) as error:
        create_manual(ctx, InterventionRequest(customer_id="C000001"), "key-5")

    assert error.value.status == 403
    assert auto_trigger(ctx, ctx.customers.get("C000001"), 99.0) is None
    assert all_interventions(ctx) == []


def test_auto_trigger_creates_one_per_cooldown_window(aws):
    ctx = make_context(aws, AUTO_TRIGGER_THRESHOLD="80", AUTO_TRIGGER_COOLDOWN_HOURS="72")
    now = utc_now()
    stale = ctx.customers.get("C000001")

    assert auto_trigger(ctx, stale, 79.9, now) is None
    created = auto_trigger(ctx, stale, 85.0, now)
    # A concurrent scorer holding the same stale read (no last_intervention_at) loses the conditional write.
    again = auto_trigger(ctx, stale, 90.0, now + timedelta(hours=1))
    after_window = auto_trigger(ctx, ctx.customers.get("C000001"), 90.0, now + timedelta(hours=73))

    assert created and again is None and after_window and after_window != created
    items = all_interventions(ctx)
    assert sorted(item["intervention_id"] for item in items) == sorted([created, after_window])
    assert {item["trigger"] for item in items} == {"auto"}


def test_without_a_threshold_the_critical_level_triggers(aws):
    ctx = make_context(aws)
    customer = ctx.customers.get("C000001")

    assert auto_trigger(ctx, {**customer, "risk_level": "high"}, 69.0) is None
    created = auto_trigger(ctx, {**customer, "risk_level": "critical"}, 71.0)

    [item] = all_interventions(ctx)
    assert item["intervention_id"] == created and "risk level critical" in item["history"][0]["note"]


def test_a_manual_contact_also_holds_off_auto_triggers(aws):
    ctx = make_context(aws)
    create_manual(ctx, InterventionRequest(customer_id="C000001"), "key-6")

    assert auto_trigger(ctx, ctx.customers.get("C000001"), 95.0) is None
    assert auto_trigger(ctx, CUSTOMER, 95.0) is None  # stale read: the condition still refuses


def test_outcomes_follow_the_status_history(aws):
    ctx = make_context(aws)
    created, _ = create_manual(ctx, InterventionRequest(customer_id="C000001"), "key-7")
    intervention_id = created["intervention_id"]

    with pytest.raises(Conflict) as error:
        record_outcome(ctx, intervention_id, OutcomeRequest(status="responded", response="paid"))
    assert error.value.details[0].field == "status"

    ctx.interventions.transition(intervention_id, "queued", "sending", {"status": "sending", "at": "t1"})
    ctx.interventions.transition(intervention_id, "sending", "sent", {"status": "sent", "at": "t2"})
    delivered = record_outcome(ctx, intervention_id, OutcomeRequest(status="delivered"))
    repeated = record_outcome(ctx, intervention_id, OutcomeRequest(status="delivered"))
    responded = record_outcome(ctx, intervention_id,
                               OutcomeRequest(status="responded", response="promised_to_pay", note="pays on the 5th"))

    assert delivered["status"] == repeated["status"] == "delivered"
    assert len(repeated["history"]) == len(delivered["history"])
    assert [entry["status"] for entry in responded["history"]] == [
        "queued", "sending", "sent", "delivered", "responded"]
    assert responded["response"] == "promised_to_pay"
    with pytest.raises(Conflict):
        record_outcome(ctx, intervention_id, OutcomeRequest(status="failed"))


def test_an_unknown_intervention_is_404(aws):
    ctx = make_context(aws)

    with pytest.raises(NotFound):
        record_outcome(ctx, "iv-missing", OutcomeRequest(status="delivered"))


def test_terminal_statuses_allow_nothing_further():
    assert TRANSITIONS["responded"] == frozenset() and TRANSITIONS["failed"] == frozenset()
    assert all(target in TRANSITIONS for targets in TRANSITIONS.values() for target in targets)


def test_response_is_only_recorded_with_responded():
    with pytest.raises(ValueError):
        OutcomeRequest(status="delivered", response="paid")


def test_destinations_are_masked():
    assert interventions.mask_destination("sms", "+919812345678") == "+91******5678"
    assert interventions.mask_destination("email", "priya.sharma@example.in") == "p***@example.in"
    assert interventions.mask_destination("app", "app:C000001") == "app:C000001"
