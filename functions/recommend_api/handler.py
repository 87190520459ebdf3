"""Banking product recommendations: POST /v1/recommendations and GET /v1/recommendations/segments."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.api.resolver import create_resolver
from finscore.observability import logger, metrics, tracer
from finscore.recommend import service
from finscore.recommend.schemas import CustomerProfile, RecommendationResponse, SegmentsResponse

app = create_resolver()


@app.post(
    "/v1/recommendations",
    summary="Recommend banking products",
    description="Segments the customer and recommends one product per category that the customer "
    "does not hold yet, with the model's confidence.",
    tags=["recommend"],
)
def recommend_products(profile: CustomerProfile) -> RecommendationResponse:
    recommendation = service.recommend(profile)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="model_version", value=recommendation.model_version)
    return recommendation


@app.get(
    "/v1/recommendations/segments",
    summary="Customer segments",
    description="Every segment of the champion model with its centroid in original units.",
    tags=["recommend"],
)
def list_segments() -> SegmentsResponse:
    return service.segments()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
