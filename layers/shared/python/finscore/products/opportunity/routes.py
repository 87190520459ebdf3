"""The opportunity routes: businesses of a location scored and ranked, locations compared and listed,
review texts and economic indicators in, the model described and a business's score explained."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit

from finscore.api.errors import route_responses
from finscore.observability import metrics
from finscore.products.opportunity import service
from finscore.products.opportunity.api_models import (
    MAX_RECORDS,
    BusinessesRequest,
    BusinessesResponse,
    CompareRequest,
    CompareResponse,
    ExplanationResponse,
    IndicatorsResponse,
    LocationsResponse,
    ModelResponse,
    ReviewsRequest,
    ReviewsResponse,
    ScoreRequest,
    ScoreResponse,
)
from finscore.products.opportunity.catalog import CATEGORY_TEXT
from finscore.products.opportunity.records import Indicators
from finscore.products.opportunity.sentiment import ENGAGEMENT_TEXT

router = Router()
NO_INDICATORS = "No economic indicators are stored yet"
CONTEXT_TEXT = ("Scores use what is stored at the time of the request: the location's sentiment (mean VADER compound "
                "of its reviews) and the latest economic indicators in effect.")


@router.post("/v1/opportunities/score", tags=["opportunity"], summary="A location's businesses ranked by opportunity",
             description=f"{CONTEXT_TEXT} Categories: {CATEGORY_TEXT}. engagement_score = {ENGAGEMENT_TEXT}.",
             responses=route_responses(404, 409, s404="Unknown location", s409=NO_INDICATORS))
def score(request: ScoreRequest) -> ScoreResponse:
    answer = service.score_location(request.location, request.business_type, request.limit)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=answer.total_businesses)
    return answer


@router.post("/v1/opportunities/score/businesses", tags=["opportunity"], summary="Score businesses given in the body",
             description="A list of businesses {business_type, revenue, age, rating, and optionally business_id, location, "
                         "sentiment_score, inflation_rate, interest_rate} (a business not stored, a what-if). "
                         f"{CONTEXT_TEXT} A left-out sentiment_score is its location's; left-out rates are the "
                         f"indicators in effect. Up to {MAX_RECORDS}; a bad business fails alone, with its index.",
             responses=route_responses(422, s422="No business in the list can be scored (each one named)"))
def score_businesses(request: BusinessesRequest) -> BusinessesResponse:
    answer = service.score_businesses(request.businesses)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=len(answer.results))
    return answer


@router.post("/v1/opportunities/compare", tags=["opportunity"], summary="Locations side by side",
             description=f"{CONTEXT_TEXT} Per location: businesses, mean and top score, category counts, sentiment "
                         "and the business type with the highest mean score.",
             responses=route_responses(404, 409, s404="A location is unknown (each one named)", s409=NO_INDICATORS))
def compare(request: CompareRequest) -> CompareResponse:
    return service.compare_locations(request.locations)


@router.get("/v1/opportunities/locations", tags=["opportunity"], summary="Every location with its sentiment")
def locations() -> LocationsResponse:
    return service.list_locations()


@router.post("/v1/opportunities/reviews", tags=["opportunity"], summary="Review texts in: VADER scores and aggregates",
             description="Each text is scored with VADER (compound, -1..1) and stored once per location (the same text "
                         "again is reported as a duplicate and not counted); the location's aggregates are updated "
                         "and returned.",
             responses=route_responses(404, s404="Unknown location"))
def reviews(request: ReviewsRequest) -> ReviewsResponse:
    return service.add_reviews(request.location, request.texts)


@router.post("/v1/opportunities/economic-indicators", tags=["opportunity"], summary="Economic indicators in",
             description="Stored under their effective date (history kept; the same date again replaces them). Scores "
                         "use the latest effective on or before the day of the request.")
def economic_indicators(request: Indicators) -> IndicatorsResponse:
    return service.add_indicators(request)


@router.get("/v1/opportunities/model", tags=["opportunity"], summary="The champion: metrics and feature importances")
def model() -> ModelResponse:
    return service.describe_model()


@router.get("/v1/opportunities/businesses/<business_id>/explanation", tags=["opportunity"],
            summary="Why a business scores what it does",
            description="The forest's prediction decomposed exactly along the business's decision paths: the baseline "
                        "(mean training score) plus each input's contribution is the prediction.",
            responses=route_responses(404, 409, s404="Unknown business", s409=NO_INDICATORS))
def explanation(
    business_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                                     description="A business id, e.g. BIZ000123")],
) -> ExplanationResponse:
    return service.explain_business(business_id)
