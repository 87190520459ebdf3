"""What the risk API does beyond scoring: customers, transactions, the high-risk listing, interventions,
messages and metrics, over the stores of the function's settings.

Stores and settings are built on first use, never at import, so tests and the local runtime can set
the environment first.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from finscore.errors import FieldIssue, ModelUnavailable, NotFound, ValidationFailed
from finscore.products.risk import ingest, interventions, scoring
from finscore.products.risk.interventions import InterventionContext, mask_destination
from finscore.products.risk.messages import compose_message
from finscore.products.risk.model import LEVELS
from finscore.products.risk.repository import (
    SCORE_BAND_WIDTH,
    CounterStore,
    CustomerStore,
    InterventionStore,
    TransactionStore,
    normalised_query,
)
from finscore.products.risk.api_models import (
    CustomerDetail,
    CustomerListResponse,
    CustomerScoreUpdate,
    CustomerSummary,
    HighRiskCustomer,
    HighRiskResponse,
    Intervention,
    InterventionPage,
    InterventionRequest,
    MAX_TRANSACTIONS_PER_REQUEST,
    LatestScore,
    MessageRequest,
    MessageResponse,
    MetricsResponse,
    ModelSummary,
    OutcomeRequest,
    RowRejectModel,
    Transaction,
    TransactionsIngestResponse,
    TransactionsPage,
)
from finscore.products.risk.settings import RiskApiSettings
from finscore.settings import load_settings

STATUSES = ("queued", "sending", "sent", "delivered", "failed", "responded")
CHANNELS = ("sms", "email", "app")


@lru_cache(maxsize=1)
def context() -> scoring.RiskContext:
    """The risk API's stores and intervention policy."""
    settings = load_settings(RiskApiSettings)
    counters = CounterStore(settings.counters_table)
    customers = CustomerStore(settings.customers_table, counters=counters, search_table=settings.customer_search_table)
    return scoring.RiskContext(
        customers=customers,
        transactions=TransactionStore(settings.transactions_table),
        interventions=InterventionContext(
            customers=customers,
            interventions=InterventionStore(settings.interventions_table, settings.customers_table, counters),
            policy=settings,
            idempotency_table=settings.idempotency_table,
            idempotency_ttl_seconds=int(settings.idempotency_ttl_hours * 3600),
        ),
    )


def reset() -> None:
    """Forget stores, settings-derived context and the champion (tests that change the environment)."""
    context.cache_clear()
    scoring.reset_champion()


def _customer(customer_id: str) -> dict[str, Any]:
    customer = context().customers.get(customer_id)
    if customer is None:
        raise NotFound(f"Unknown customer {customer_id}", [FieldIssue("customer_id", "no such customer")])
    return customer


def _summary(item: Mapping[str, Any]) -> CustomerSummary:
    return CustomerSummary(customer_id=item["customer_id"], name=item.get("name", ""), city=item.get("city"),
                           risk_score=item.get("risk_score"), risk_level=item.get("risk_level"),
                           scored_at=item.get("scored_at"))


def search_customers(q: str, limit: int, cursor: str | None) -> CustomerListResponse:
    if not normalised_query(q):
        raise ValidationFailed("Search for at least one letter or digit", [FieldIssue("query.q", "blank: nothing to search for")])
    page = context().customers.search(q, limit, cursor)
    return CustomerListResponse(customers=[_summary(item) for item in page.items], next_cursor=page.cursor)


def customer_detail(customer_id: str, contact: str = "masked") -> CustomerDetail:
    """A customer's profile; phone and email masked unless CONTACT is "full" (the route checks the scope)."""
    item = _customer(customer_id)
    latest = None
    if item.get("risk_score") is not None and item.get("risk_level"):
        latest = LatestScore(probability=item.get("probability", item["risk_score"] / 100.0),
                             risk_score=item["risk_score"], risk_level=item["risk_level"],
                             model_version=item.get("model_version", ""), scored_at=item.get("scored_at", ""))
    fields = {name: item.get(name) for name in CustomerDetail.model_fields if name in item}
    fields.update(features={k: float(v) for k, v in (item.get("features") or {}).items()}, latest_score=latest,
                  opened_at=str(item["opened_at"]) if item.get("opened_at") else None)
    fields.setdefault("name", "")
    if contact != "full":
        for field, channel in (("phone", "sms"), ("email", "email")):
            if fields.get(field):
                fields[field] = mask_destination(channel, str(fields[field]))
    return CustomerDetail.model_validate({**fields, "contact": contact})


def customer_transactions(customer_id: str, limit: int, cursor: str | None) -> TransactionsPage:
    _customer(customer_id)
    page = context().transactions.page(customer_id, limit, cursor)
    return TransactionsPage(
        customer_id=customer_id,
        transactions=[Transaction.model_validate({**item, "date": str(item["date"])}) for item in page.items],
        next_cursor=page.cursor,
    )


def add_transactions(body: Any) -> TransactionsIngestResponse:
    """POST /v1/risk/transactions: a JSON list (or {"transactions": [...]}) through the ingest path."""
    records = body.get("transactions") if isinstance(body, dict) and set(body) == {"transactions"} else body
    if not isinstance(records, list):
        raise ValidationFailed("Send a JSON list of transactions or {\"transactions\": [...]}",
                               [FieldIssue("body", "expected a list of transactions")])
    if not records:
        raise ValidationFailed("No transactions in the request", [FieldIssue("transactions", "empty list")])
    if len(records) > MAX_TRANSACTIONS_PER_REQUEST:
        raise ValidationFailed(f"At most {MAX_TRANSACTIONS_PER_REQUEST} transactions per request; drop larger "
                               "files in the data bucket", [FieldIssue("transactions", "too many")])
    result = ingest.ingest_transactions(context(), records)
    rejects = [RowRejectModel(index=reject.row - 1, reason=reject.reason) for reject in result.rejects]
    if result.stored == 0:
        # Nothing was stored: the whole request is bad input, answered in the error shape.
        raise ValidationFailed(f"All {len(records)} transaction(s) were rejected",
                               [FieldIssue(f"transactions[{reject.index}]", reject.reason) for reject in rejects])
    return TransactionsIngestResponse(
        received=result.received, stored=result.stored, rejected=len(rejects),
        customers_updated=result.customers_updated, model_version=result.model_version, rejects=rejects,
        scores=[CustomerScoreUpdate.model_validate(score) for score in result.scores],
    )


def min_score_for(level: str) -> float:
    """The lower bound of LEVEL on the 0-100 scale at the cut-offs in use."""
    cutoffs = scoring.cutoffs_in_use(context())
    index = LEVELS.index(level)
    return 0.0 if index == 0 else float(cutoffs[index - 1])


def high_risk(min_level: str, limit: int, cursor: str | None) -> HighRiskResponse:
    min_score = min_score_for(min_level)
    page = context().customers.highest_scores(min_score, limit, cursor)
    return HighRiskResponse(
        min_level=min_level,
        min_score=min_score,
        customers=[HighRiskCustomer.model_validate({"name": "", **{k: v for k, v in item.items()
                                                               if k in HighRiskCustomer.model_fields}})
                   for item in page.items],
        next_cursor=page.cursor,
    )


def create_intervention(request: InterventionRequest, idempotency_key: str | None,
                        lambda_context: Any = None) -> tuple[Intervention, bool]:
    view, replayed = interventions.create_manual(context().interventions, request, idempotency_key, lambda_context)
    return Intervention.model_validate(view), replayed


def list_interventions(customer_id: str | None, status: str | None, limit: int, cursor: str | None) -> InterventionPage:
    page = interventions.list_interventions(context().interventions, customer_id=customer_id, status=status,
                                            limit=limit, cursor=cursor)
    return InterventionPage(interventions=[Intervention.model_validate(item) for item in page.items],
                            next_cursor=page.cursor)


def record_outcome(intervention_id: str, outcome: OutcomeRequest) -> Intervention:
    return Intervention.model_validate(interventions.record_outcome(context().interventions, intervention_id, outcome))


def message(request: MessageRequest) -> MessageResponse:
    level, channel, language, name = request.risk_level, request.channel, request.language, request.customer_name
    if request.customer_id is not None:
        customer = _customer(request.customer_id)
        if level is None:
            level = customer.get("risk_level")
            if level is None:
                raise ValidationFailed(f"Customer {request.customer_id} has not been scored yet",
                                       [FieldIssue("risk_level", "required for a customer without a score")])
        channel = channel or customer.get("preferred_channel")
        language = language or customer.get("preferred_language")
        name = name or customer.get("name")
    composed = compose_message(level, channel or "sms", language or "en", name)
    sms = composed.sms
    return MessageResponse(
        risk_level=composed.risk_level, channel=composed.channel, language=composed.language,
        subject=composed.subject, text=composed.text, characters=len(composed.text),
        encoding=sms.encoding if sms else None, segments=sms.segments if sms else None,
    )


def metrics() -> MetricsResponse:
    """The counters (one batched read of a few items) and a counting query per intervention status:
    no request reads the customers or interventions themselves."""
    ctx = context()
    counts = ctx.customers.counters.totals()
    levels = {level: counts.get(f"level_{level}", 0) for level in LEVELS}
    by_status = ctx.interventions.interventions.count_by_status(STATUSES)
    model = None
    try:
        loaded = scoring.champion().get()
        model = ModelSummary(version=loaded.version, primary_metric=loaded.manifest.primary_metric,
                             metrics=loaded.manifest.metrics, cutoffs=list(scoring.cutoffs_in_use(ctx)))
    except ModelUnavailable:
        model = None
    bands = {f"{band * SCORE_BAND_WIDTH}-{(band + 1) * SCORE_BAND_WIDTH}": counts.get(f"band_{band}", 0)
             for band in range(100 // SCORE_BAND_WIDTH)}
    return MetricsResponse(
        customers_by_level=levels,
        customers_by_score_band=bands,
        scored_customers=sum(levels.values()),
        interventions_by_status=by_status,
        interventions_by_channel={channel: counts.get(f"channel_{channel}", 0) for channel in CHANNELS},
        interventions_enabled=ctx.policy.enable_interventions,
        auto_trigger_threshold=ctx.policy.auto_trigger_threshold,
        model=model,
    )
