"""The risk routes: scores, customers, transactions, the high-risk listing, interventions, messages and
metrics (the explanation route is served by the risk_explain image function)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from finscore.api.access import require_customer_data_scope
from finscore.api.errors import route_responses
from finscore.observability import metrics
from finscore.products.risk import scoring, service
from finscore.products.risk.api_models import (
    BatchScoreRequest,
    BatchScoreResponse,
    ContactView,
    CustomerDetail,
    CustomerListResponse,
    HighRiskResponse,
    Intervention,
    InterventionPage,
    InterventionRequest,
    InterventionStatus,
    MessageRequest,
    MessageResponse,
    MetricsResponse,
    OutcomeRequest,
    RiskLevel,
    ScoreRequest,
    ScoreResponse,
    TransactionsIngestResponse,
    TransactionsPage,
)

router = Router()

CustomerIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                     description="Customer id")]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1-100")]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]


def _count_levels(level: str, count: int = 1) -> None:
    metrics.add_metric(name=f"RiskLevel_{level}", unit=MetricUnit.Count, value=count)


@router.post("/v1/risk/score", tags=["risk"], summary="Score a customer by id or raw features",
          description="By customer_id: the stored features are scored, the score saved on the customer and an "
          "intervention created when it reaches the critical level (or AUTO_TRIGGER_THRESHOLD when set). With features: every feature of the "
          "champion's manifest, scored and not stored.",
          responses=route_responses(404, s404="No customer with this customer_id"))
def score(request: ScoreRequest) -> ScoreResponse:
    result = scoring.score(service.context(), request)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=1)
    _count_levels(result.risk_level)
    return result


@router.post("/v1/risk/score/batch", tags=["risk"], summary="Score up to 1,000 records",
          description="Each record is {customer_id} or {features}; a bad record fails alone, reported with its "
          "index and reason.")
def score_batch(request: BatchScoreRequest) -> BatchScoreResponse:
    result = scoring.score_batch(service.context(), request)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=result.scored)
    return result


@router.get("/v1/risk/customers", tags=["risk"], summary="Search customers by id prefix or name",
            description="Customers whose id, or a word of whose name, begins with q (case-insensitive); "
            "several words match as they follow each other in the name.")
def search_customers(
    q: Annotated[str, Query(min_length=1, max_length=100, description="Id prefix, or the beginning of a word of the name")],
    limit: Limit = 20,
    cursor: Cursor = None,
) -> CustomerListResponse:
    return service.search_customers(q, limit, cursor)


@router.get("/v1/risk/customers/<customer_id>", tags=["risk"], summary="Customer profile, features and latest score",
            description="Phone and email are masked unless contact=full is asked with the customer-data scope: "
            "a token with finscore/customers.read, or without a token an API key of cdk.json "
            "customerDataApiKeyIds (locally the admin key).",
            responses=route_responses(404, 403, s403="contact=full without the customer-data scope"))
def customer_detail(
    customer_id: CustomerIdPath,
    contact: Annotated[ContactView, Query(description="masked (default) | full (customer-data scope only)")] = "masked",
) -> CustomerDetail:
    if contact == "full":
        require_customer_data_scope(router.current_event, "contact")
    return service.customer_detail(customer_id, contact)


@router.get("/v1/risk/customers/<customer_id>/transactions", tags=["risk"], summary="A customer's transactions, newest first",
            responses=route_responses(404, s404="No customer with this id"))
def customer_transactions(customer_id: CustomerIdPath, limit: Limit = 50, cursor: Cursor = None) -> TransactionsPage:
    return service.customer_transactions(customer_id, limit, cursor)


@router.post("/v1/risk/transactions", tags=["risk"], summary="Add transactions; features are recomputed and rescored",
          description="A JSON list of transactions (or {\"transactions\": [...]}), validated one by one. Valid "
          "ones are stored, their customers' features recomputed and rescored; every rejected one is listed "
          "with its index and reason. When none is valid the answer is 422.")
def add_transactions(
    body: Annotated[list[Any] | dict[str, list[Any]], Body(description="Transactions: a list, or {\"transactions\": [...]}")],
) -> TransactionsIngestResponse:
    return service.add_transactions(body)


@router.get("/v1/risk/high-risk", tags=["risk"], summary="Customers at or above a risk level, highest score first")
def high_risk(
    min_level: Annotated[RiskLevel, Query(description="low | medium | high | critical")] = "high",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> HighRiskResponse:
    return service.high_risk(min_level, limit, cursor)


@router.post("/v1/risk/interventions", tags=["risk"], summary="Create an intervention (once per Idempotency-Key)",
          description="Queues a message to the customer (sms | email | app); the delivery function sends it once. "
          "Repeating a request with the same Idempotency-Key returns the first intervention (200) instead of "
          "creating another (201). 403 when ENABLE_INTERVENTIONS is false.",
          responses=route_responses(403, 404, 409, ok={201: "Created", 200: "The first intervention of this "
                                                      "Idempotency-Key, replayed"},
                                    s403="Interventions are disabled (ENABLE_INTERVENTIONS is false)",
                                    s404="No customer with this customer_id",
                                    s409="A request with this Idempotency-Key is still in progress"))
def create_intervention(
    request: InterventionRequest,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                           description="Unique key per intended intervention (required)")],
) -> Response[Intervention]:
    intervention, replayed = service.create_intervention(request, idempotency_key, router.lambda_context)
    if not replayed:
        metrics.add_metric(name="Interventions", unit=MetricUnit.Count, value=1)
    return Response(status_code=200 if replayed else 201, content_type="application/json", body=intervention,
                    headers={"Idempotent-Replayed": "true" if replayed else "false"})


@router.get("/v1/risk/interventions", tags=["risk"], summary="Interventions, optionally of one customer or status")
def list_interventions(
    customer_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                             description="Only this customer's, newest first")] = None,
    status: Annotated[InterventionStatus | None, Query(description="Only interventions in this status")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> InterventionPage:
    return service.list_interventions(customer_id, status, limit, cursor)


@router.patch("/v1/risk/interventions/<intervention_id>", tags=["risk"], summary="Record a delivery or response outcome",
           description="delivered | failed | responded, following queued -> sent -> delivered | failed -> responded; "
           "any other transition is 409. Repeating the current outcome changes nothing.",
           responses=route_responses(404, 409, s404="No intervention with this id",
                                     s409="The outcome does not follow the intervention's status"))
def record_outcome(
    intervention_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    outcome: OutcomeRequest,
) -> Intervention:
    return service.record_outcome(intervention_id, outcome)


@router.post("/v1/risk/messages", tags=["risk"], summary="Message text by risk level, channel and language",
          description="English or Hindi (Devanagari) text for sms, email or app push; SMS with its encoding and "
          "segment count (GSM-7 160/153, UCS-2 70/67 characters).",
          responses=route_responses(404, s404="No customer with this customer_id"))
def compose_message(request: MessageRequest) -> MessageResponse:
    return service.message(request)


@router.get("/v1/risk/metrics", tags=["risk"], summary="Customers by level, interventions, champion metrics")
def risk_metrics() -> MetricsResponse:
    return service.metrics()
