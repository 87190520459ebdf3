"""Request and response models of the opportunity routes; they drive validation and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from finscore.products.opportunity.catalog import CATEGORY_TEXT
from finscore.products.opportunity.records import BusinessType, Location, ReviewText
from finscore.products.opportunity.sentiment import ENGAGEMENT_TEXT

MAX_RESULTS = 500
MAX_COMPARED = 20
MAX_TEXTS = 500
MAX_RECORDS = 1_000
Score = Annotated[float, Field(ge=0, le=100, description="Opportunity score 0-100")]
Category = Annotated[str, Field(description=CATEGORY_TEXT)]


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    location: Location
    business_type: Annotated[BusinessType | None, Field(description="Only businesses of this type")] = None
    limit: Annotated[int, Field(ge=1, le=MAX_RESULTS, description="How many of the best to return")] = 20


class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    locations: Annotated[list[Location], Field(min_length=1, max_length=MAX_COMPARED,
                                               description=f"1-{MAX_COMPARED} locations to compare")]


class BusinessesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    businesses: Annotated[list[Any], Field(min_length=1, max_length=MAX_RECORDS,
                                           description=f"1-{MAX_RECORDS} businesses to score")]


class ReviewsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    location: Location
    texts: Annotated[list[ReviewText],
                     Field(min_length=1, max_length=MAX_TEXTS, description=f"Review or social texts, 1-{MAX_TEXTS}")]


class Sentiment(BaseModel):
    sentiment_score: Annotated[float, Field(ge=-1, le=1, description="Mean VADER compound of the location's "
                                                                     "stored texts (0 without any)")]
    engagement_score: Annotated[float, Field(ge=0, le=1, description=ENGAGEMENT_TEXT)]
    review_count: int
    last_review_at: Annotated[str | None, Field(description="When the latest text was taken in (ISO time)")]


class EconomicContext(BaseModel):
    effective_date: str
    inflation_rate: float
    interest_rate: float
    market_index: float


class ScoredBusiness(BaseModel):
    rank: int
    business_id: str
    business_type: str
    revenue: float
    age: float
    rating: float
    opportunity_score: Score
    category: Category


class ScoreResponse(BaseModel):
    model_version: str
    location: str
    total_businesses: Annotated[int, Field(description="Businesses of the location (of the type asked, if any)")]
    sentiment: Sentiment
    economic_context: EconomicContext
    results: Annotated[list[ScoredBusiness], Field(description="Highest score first, up to limit")]


class FieldIssueModel(BaseModel):
    field: str
    issue: str


class RecordError(BaseModel):
    index: Annotated[int, Field(description="Position of the business in the request list")]
    message: str
    details: list[FieldIssueModel]


class ScoredRecord(BaseModel):
    index: Annotated[int, Field(description="Position of the business in the request list")]
    business_id: str | None
    location: str | None
    opportunity_score: Score
    category: Category
    sentiment_score: Annotated[float, Field(description="As given, or its location's when left out")]
    inflation_rate: Annotated[float, Field(description="As given, or the indicators' in effect")]
    interest_rate: Annotated[float, Field(description="As given, or the indicators' in effect")]


class BusinessesResponse(BaseModel):
    model_version: str
    results: list[ScoredRecord]
    errors: Annotated[list[RecordError], Field(description="Businesses that could not be scored, each with why")]


class LocationComparison(BaseModel):
    location: str
    total_businesses: int
    mean_score: Score | None
    top_score: Score | None
    top_business_id: str | None
    best_business_type: Annotated[str | None, Field(description="The business type with the highest mean score")]
    category_counts: dict[str, int]
    sentiment: Sentiment


class CompareResponse(BaseModel):
    model_version: str
    economic_context: EconomicContext
    locations: Annotated[list[LocationComparison], Field(description="In the order asked")]


class LocationSummary(BaseModel):
    location: str
    city: str
    neighbourhood: str
    business_count: int
    sentiment: Sentiment


class LocationsResponse(BaseModel):
    locations: list[LocationSummary]


class TextScore(BaseModel):
    index: Annotated[int, Field(description="Position of the text in the request")]
    compound: Annotated[float, Field(ge=-1, le=1, description="VADER compound score")]
    duplicate: Annotated[bool, Field(description="The same text was stored for this location before: not counted again")]


class ReviewsResponse(BaseModel):
    location: str
    received: int
    inserted_count: int
    duplicate_count: int
    results: list[TextScore]
    aggregates: Annotated[Sentiment, Field(description="The location's sentiment after these texts")]


class IndicatorsResponse(BaseModel):
    stored: EconomicContext
    in_effect: Annotated[EconomicContext, Field(description="The indicators scores use now: the latest effective "
                                                            "on or before today")]


class Contribution(BaseModel):
    feature: str
    value: float
    contribution: Annotated[float, Field(description="Points of score this feature's value adds (or takes away)")]


class ExplanationResponse(BaseModel):
    model_version: str
    business_id: str
    location: str
    business_type: str
    opportunity_score: Score
    category: Category
    baseline: Annotated[float, Field(description="The mean training score: where every explanation starts")]
    prediction: Annotated[float, Field(description="baseline + the sum of every contribution (the score before "
                                                   "clipping to 0-100)")]
    contributions: Annotated[list[Contribution], Field(description="Every model input, largest effect first")]
    top_contributions: Annotated[list[Contribution], Field(description="The three largest effects")]


class ModelResponse(BaseModel):
    model_version: str
    algorithm: str
    inputs: list[str]
    metrics: Annotated[dict[str, float], Field(description="Held-out MSE, RMSE, MAE and R2")]
    feature_importance: Annotated[dict[str, dict[str, float]], Field(description="impurity and permutation")]
    candidates: Annotated[dict[str, dict], Field(description="Both candidates (with and without business_type) "
                                                             "and their validation and held-out metrics")]
    categories: str
    label: str
