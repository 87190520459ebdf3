"""Interventions: creation (by request with an Idempotency-Key, or automatically by a high score), the
status history and its transitions, and outcome recording.

Statuses run queued -> sending -> sent -> delivered | failed -> responded. `sending` is the delivery
function's claim (see finscore.products.risk.delivery); every change is a conditional write on the status it
leaves, so two writers can never both move the same intervention.

Idempotency of POST /v1/risk/interventions is two-layered. Powertools' idempotency utility (DynamoDB
persistence on IDEMPOTENCY_TABLE) answers a replayed request with the stored first answer and refuses
a key reused for another request. Underneath, the intervention id is derived from the key and written
with attribute_not_exists, so even a retry after the idempotency record was lost (the function died
between the write and saving the answer) finds the first intervention instead of creating a second.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable, Mapping, get_args

from finscore.aws import client
from finscore.errors import Conflict, FieldIssue, FinScoreError, InvalidRequest, NotFound, ServiceUnavailable, ValidationFailed
from finscore.observability import logger
from finscore.products.risk.messages import compose_message, sms_segments
from finscore.dynamo import ConditionFailed, Page
from finscore.products.risk.repository import CustomerStore, InterventionStore
from finscore.products.risk.api_models import InterventionRequest, OutcomeRequest, RiskLevel
from finscore.products.risk.settings import InterventionPolicy

# The highest risk level: what auto-triggers when no AUTO_TRIGGER_THRESHOLD is set.
CRITICAL = get_args(RiskLevel)[-1]

# Which status may follow which. `sending` is only entered by the delivery claim.
TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"sending", "failed"}),
    "sending": frozenset({"sent", "failed"}),
    "sent": frozenset({"delivered", "failed"}),
    "delivered": frozenset({"responded"}),
    "failed": frozenset(),
    "responded": frozenset(),
}
OUTCOMES = ("delivered", "failed", "responded")
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_PREFIX = "risk-interventions"


class InterventionsDisabled(FinScoreError):
    """ENABLE_INTERVENTIONS is false: nothing may be created or sent."""

    status = 403
    code = "interventions_disabled"


@dataclass(frozen=True)
class InterventionContext:
    customers: CustomerStore
    interventions: InterventionStore
    policy: InterventionPolicy
    idempotency_table: str | None = None
    idempotency_ttl_seconds: int = 24 * 3600


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mask_destination(channel: str, destination: str) -> str:
    """What the API shows of a phone number or email: enough to recognise it, not enough to reuse it."""
    if channel == "sms":
        if len(destination) > 7:
            return destination[:3] + "*" * (len(destination) - 7) + destination[-4:]
        return "*" * max(len(destination) - 2, 0) + destination[-2:]
    if channel == "email" and "@" in destination:
        local, domain = destination.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return destination


def destination_for(customer: Mapping[str, Any], channel: str) -> str:
    if channel == "app":
        return f"app:{customer['customer_id']}"
    field = "phone" if channel == "sms" else "email"
    value = customer.get(field)
    if not value:
        raise ValidationFailed(f"Customer {customer['customer_id']} has no {field} for the {channel} channel",
                               [FieldIssue("channel", f"customer has no {field}")])
    return str(value)


def build_intervention(customer: Mapping[str, Any], *, intervention_id: str, channel: str, language: str,
                       trigger: str, now: datetime, text: str | None = None, note: str = "") -> dict[str, Any]:
    """A new queued intervention carrying everything delivery needs (it reads no other table)."""
    level = customer.get("risk_level") or "medium"
    message = compose_message(level, channel, language, customer.get("name"))
    body = text or message.text
    stamp = iso(now)
    segments = sms_segments(body).segments if channel == "sms" else None
    return {
        "intervention_id": intervention_id,
        "customer_id": customer["customer_id"],
        "channel": channel,
        "language": language,
        "trigger": trigger,
        "status": "queued",
        "risk_level": customer.get("risk_level"),
        "risk_score": customer.get("risk_score"),
        "subject": message.subject,
        "message": body,
        "destination": destination_for(customer, channel),
        "sms_segments": segments,
        "created_at": stamp,
        "updated_at": stamp,
        "history": [{"status": "queued", "at": stamp, "note": note or f"created ({trigger})"}],
    }


def public_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """The intervention as the API shows it (destination masked, internal fields dropped)."""
    view = {key: value for key, value in item.items() if key not in ("idempotency_key", "request_digest", "created_shard")}
    view["destination"] = mask_destination(item["channel"], item["destination"])
    return view


def _request_digest(request: InterventionRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def _check_key(idempotency_key: str | None) -> str:
    key = (idempotency_key or "").strip()
    if not key:
        raise InvalidRequest("POST /v1/risk/interventions needs an Idempotency-Key header",
                             [FieldIssue(IDEMPOTENCY_KEY_HEADER, "required: a unique key per intended intervention")])
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise InvalidRequest("The Idempotency-Key header is malformed",
                             [FieldIssue(IDEMPOTENCY_KEY_HEADER, f"at most {MAX_IDEMPOTENCY_KEY} printable characters")])
    return key


def create_manual(ctx: InterventionContext, request: InterventionRequest, idempotency_key: str | None,
                  lambda_context: Any = None) -> tuple[dict[str, Any], bool]:
    """Create the intervention REQUEST asks for, once per Idempotency-Key; returns (view, replayed)."""
    if not ctx.policy.enable_interventions:
        raise InterventionsDisabled("Interventions are disabled (ENABLE_INTERVENTIONS=false)")
    key = _check_key(idempotency_key)
    if not ctx.idempotency_table:
        raise ValueError("manual interventions need the idempotency table")
    create, config = _idempotent_creator(ctx.idempotency_table, ctx.idempotency_ttl_seconds, client("dynamodb"))
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    # Imported here with the rest of the idempotency utility: only this route needs it.
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    command = {"idempotency_key": key, "request": request.model_dump(mode="json")}
    try:
        view = create(command=command, ctx=ctx)
    except IdempotencyValidationError as exc:
        raise ValidationFailed("This Idempotency-Key was already used for a different request",
                               [FieldIssue(IDEMPOTENCY_KEY_HEADER, "reused with a different body")]) from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly",
                       [FieldIssue(IDEMPOTENCY_KEY_HEADER, "in progress")]) from exc
    except IdempotencyPersistenceLayerError as exc:
        raise ServiceUnavailable(f"The idempotency store is unavailable: {exc}") from exc
    replayed = bool(view.pop("_replayed", False))
    return view, replayed


# One creator per idempotency table and client, built on first use: Powertools' decorator needs the
# persistence layer at decoration time, and no client may be created at import.
@lru_cache(maxsize=4)
def _idempotent_creator(table: str, ttl_seconds: int, dynamodb: Any) -> tuple[Callable[..., dict[str, Any]], Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb)
    config = IdempotencyConfig(
        event_key_jmespath="idempotency_key",
        payload_validation_jmespath="request",
        expires_after_seconds=ttl_seconds,
        raise_on_no_idempotency_key=True,
        response_hook=lambda response, _record: {**response, "_replayed": True},
    )

    @idempotent_function(data_keyword_argument="command", persistence_store=persistence, config=config,
                         key_prefix=IDEMPOTENCY_PREFIX)
    def create(command: dict[str, Any], ctx: InterventionContext) -> dict[str, Any]:
        return _create_once(ctx, InterventionRequest.model_validate(command["request"]), command["idempotency_key"])

    return create, config


def _create_once(ctx: InterventionContext, request: InterventionRequest, key: str) -> dict[str, Any]:
    customer = ctx.customers.get(request.customer_id)
    if customer is None:
        raise NotFound(f"Unknown customer {request.customer_id}", [FieldIssue("customer_id", "no such customer")])
    channel = request.channel or customer.get("preferred_channel") or "sms"
    language = request.language or customer.get("preferred_language") or "en"
    intervention_id = "iv-" + hashlib.sha256(f"{IDEMPOTENCY_PREFIX}#{key}".encode()).hexdigest()[:24]
    item = build_intervention(customer, intervention_id=intervention_id, channel=channel, language=language,
                              trigger="manual", now=utc_now(), text=request.message, note="created by request")
    item["request_digest"] = _request_digest(request)
    try:
        ctx.interventions.create(item)
    except ConditionFailed as exc:
        existing = ctx.interventions.get(intervention_id)
        if existing is None:
            raise NotFound(f"Unknown customer {request.customer_id}",
                           [FieldIssue("customer_id", "no such customer")]) from exc
        if existing.get("request_digest") != item["request_digest"]:
            raise ValidationFailed("This Idempotency-Key was already used for a different request",
                                   [FieldIssue(IDEMPOTENCY_KEY_HEADER, "reused with a different body")]) from exc
        item = existing
    logger.info("Intervention created", extra={"intervention_id": intervention_id, "trigger": "manual"})
    return public_view(item)


def auto_trigger(ctx: InterventionContext, customer: Mapping[str, Any], risk_score: float,
                 now: datetime | None = None) -> str | None:
    """Create an intervention for a score at or above AUTO_TRIGGER_THRESHOLD (unset: for a customer whose
    risk_level is critical), at most one per cool-down window.

    The customer's last_intervention_at is checked and stamped in the same transaction as the put,
    so of concurrent scorers of one customer exactly one creates it. Returns its id, or None.
    """
    policy = ctx.policy
    threshold = policy.auto_trigger_threshold
    if threshold is None:
        reached, reason = customer.get("risk_level") == CRITICAL, f"risk level {CRITICAL} (score {risk_score})"
    else:
        reached, reason = risk_score >= threshold, f"score {risk_score} >= threshold {threshold}"
    if not policy.enable_interventions or not reached:
        return None
    moment = now or utc_now()
    before = iso(moment - timedelta(hours=policy.auto_trigger_cooldown_hours))
    last = customer.get("last_intervention_at")
    if last and last >= before:
        return None
    channel = customer.get("preferred_channel") or "sms"
    try:
        item = build_intervention({**customer, "risk_score": risk_score}, intervention_id=f"iv-{uuid.uuid4().hex[:24]}",
                                  channel=channel, language=customer.get("preferred_language") or "en",
                                  trigger="auto", now=moment,
                                  note=reason)
    except ValidationFailed as exc:
        logger.warning("No auto intervention: customer cannot be reached", extra={"reason": exc.message})
        return None
    try:
        ctx.interventions.create(item, contacted_before=before)
    except ConditionFailed:
        return None
    logger.info("Intervention created", extra={"intervention_id": item["intervention_id"], "trigger": "auto"})
    return item["intervention_id"]


def get_intervention(ctx: InterventionContext, intervention_id: str) -> dict[str, Any]:
    item = ctx.interventions.get(intervention_id)
    if item is None:
        raise NotFound(f"Unknown intervention {intervention_id}", [FieldIssue("intervention_id", "no such intervention")])
    return item


def record_outcome(ctx: InterventionContext, intervention_id: str, outcome: OutcomeRequest) -> dict[str, Any]:
    """Record delivered, failed or responded; repeating the current outcome changes nothing."""
    item = get_intervention(ctx, intervention_id)
    current = item["status"]
    if current == outcome.status:
        return public_view(item)
    if outcome.status not in TRANSITIONS[current]:
        allowed = sorted(TRANSITIONS[current] & set(OUTCOMES))
        raise Conflict(
            f"An intervention that is {current} cannot become {outcome.status}",
            [FieldIssue("status", f"from {current} only {', '.join(allowed) or 'no further status'} may follow")],
        )
    entry: dict[str, Any] = {"status": outcome.status, "at": iso(utc_now())}
    if outcome.note:
        entry["note"] = outcome.note
    fields: dict[str, Any] = {}
    if outcome.response:
        entry["response"] = outcome.response
        fields["response"] = outcome.response
    try:
        return public_view(ctx.interventions.transition(intervention_id, current, outcome.status, entry, fields))
    except ConditionFailed as exc:
        raise Conflict(f"Intervention {intervention_id} changed while recording the outcome; read it and retry",
                       [FieldIssue("status", "changed concurrently")]) from exc


def list_interventions(ctx: InterventionContext, *, customer_id: str | None, status: str | None, limit: int,
                       cursor: str | None) -> Page:
    page = ctx.interventions.page(customer_id=customer_id, status=status, limit=limit, cursor=cursor)
    return Page([public_view(item) for item in page.items], page.cursor)
