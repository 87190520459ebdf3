"""The recommend routes: POST /v1/recommendations and GET /v1/recommendations/segments."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from finscore.observability import metrics
from finscore.products.columns import columns_of
from finscore.products.recommend.api_models import CustomerProfile, RecommendationResponse, SegmentProfile, SegmentsResponse
from finscore.products.recommend.catalog import CATEGORIES, PRODUCTS_BY_ID
from finscore.products.recommend.features import PROFILE_FIELDS
from finscore.products.recommend.model import confidence_column, product_column
from finscore.products.recommend.spec import NAME
from finscore.products.scoring import row_outputs, scorer

router = Router()


@router.post(
    "/v1/recommendations",
    summary="Recommend banking products",
    description="Segments the customer and recommends one product per category that the customer "
    "does not hold yet, with the model's confidence. A recommendation below the category's confidence "
    "floor (chosen on validation for a target precision) is withheld, with the reason.",
    tags=["recommend"],
)
def recommend_products(profile: CustomerProfile) -> RecommendationResponse:
    scoring = scorer(NAME)
    outputs = row_outputs(scoring.predict(columns_of([profile.model_dump()], PROFILE_FIELDS)), 0)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="model_version", value=scoring.version)
    products = {category: outputs[product_column(category)] for category in CATEGORIES}
    confidence = {category: outputs[confidence_column(category)] for category in CATEGORIES}
    withheld = {category: scoring.model.choice.withheld(category, confidence[category])
                for category, product in products.items() if product is None}
    return RecommendationResponse(
        cluster=outputs["cluster"],
        segment=outputs["segment"],
        financial_health_score=outputs["financial_health_score"],
        income_tier=outputs["income_tier"],
        recommendations={category: PRODUCTS_BY_ID[product].name if product else None
                         for category, product in products.items()},
        products=products,
        confidence_scores=confidence,
        withheld=withheld,
        model_version=scoring.version,
    )


@router.get(
    "/v1/recommendations/segments",
    summary="Customer segments",
    description="Every segment of the champion model with its centroid in original units.",
    tags=["recommend"],
)
def list_segments() -> SegmentsResponse:
    scoring = scorer(NAME, capture=False)
    return SegmentsResponse(
        model_version=scoring.version,
        segments=[SegmentProfile.model_validate(segment) for segment in scoring.model.segments],
    )
