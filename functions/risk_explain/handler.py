"""Risk explanations: GET /v1/risk/customers/{customer_id}/explanation (container image, full stack)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.api.errors import route_responses
from finscore.api.resolver import create_resolver
from finscore.observability import logger, metrics, tracer
from finscore.products.risk import explanation
from finscore.products.risk.api_models import ExplanationResponse

app = create_resolver()


@app.get("/v1/risk/customers/<customer_id>/explanation", tags=["risk"], summary="Why a customer scores as they do",
         description="SHAP contributions of the champion's native model (log-odds) for the customer's stored "
         "features, and up to four adverse reason codes in plain language, largest impact first.",
         responses=route_responses(404, 409, s404="No customer with this id",
                                   s409="The customer has no behavioural features yet"))
def explain_customer(
    customer_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                     description="Customer id")],
) -> ExplanationResponse:
    result = explanation.explain_customer(customer_id)
    metrics.add_metric(name="Explanations", unit=MetricUnit.Count, value=1)
    return result


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
