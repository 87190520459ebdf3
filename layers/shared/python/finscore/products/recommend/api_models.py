"""Request and response models of the recommend routes; they drive validation and the OpenAPI document."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from finscore.products.recommend.catalog import CATEGORIES, EMPLOYMENT_STATUSES, PRODUCT_IDS
from finscore.products.recommend.features import INCOME_TIERS

# Built from the catalogue so that the accepted ids and the documented enum can never drift apart.
ProductId = Literal[PRODUCT_IDS]  # type: ignore[valid-type]
EmploymentStatus = Literal[EMPLOYMENT_STATUSES]  # type: ignore[valid-type]
Category = Literal[CATEGORIES]  # type: ignore[valid-type]
IncomeTier = Literal[INCOME_TIERS]  # type: ignore[valid-type]

MAX_INCOME = 10_000_000
MAX_BALANCE = 100_000_000


def product_list(value: object) -> object:
    """Held products as a file cell writes them: a JSON list, or ids separated by ';' or '|'."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return [part.strip() for part in text.replace("|", ";").split(";") if part.strip()]


class CustomerProfile(BaseModel):
    """A retail banking customer, as the SmartBank request body describes one."""

    # Unknown fields are refused rather than ignored: a misspelt optional field (existing_products)
    # would otherwise silently change the recommendations.
    model_config = ConfigDict(extra="forbid", frozen=True)

    age: Annotated[int, Field(ge=18, le=100, description="Age in years", examples=[30])]
    income: Annotated[float, Field(ge=0, le=MAX_INCOME, description="Annual income", examples=[75000])]
    employment_status: Annotated[EmploymentStatus, Field(description="Employment status", examples=["employed"])]
    credit_score: Annotated[int, Field(ge=300, le=850, description="Credit score (300-850)", examples=[720])]
    existing_products: Annotated[
        list[ProductId],
        BeforeValidator(product_list),
        Field(max_length=len(PRODUCT_IDS), description="Catalogue ids of products the customer already holds; "
              "they are never recommended again", examples=[["basic_checking"]]),
    ] = []
    monthly_spending: Annotated[float, Field(ge=0, le=MAX_INCOME, description="Average monthly spending", examples=[2500])]
    savings_balance: Annotated[float, Field(ge=0, le=MAX_BALANCE, description="Savings balance", examples=[15000])]
    loan_amount: Annotated[float, Field(ge=0, le=MAX_BALANCE, description="Outstanding loan amount", examples=[0])]
    digital_engagement: Annotated[float, Field(ge=0, le=10, description="Digital engagement, 0 (none) to 10", examples=[8])]
    spending_score: Annotated[float, Field(ge=0, le=100, description="Spending propensity, 0-100", examples=[65])]
    saving_frequency: Annotated[int, Field(ge=0, le=10, description="Saving events per month, 0-10", examples=[7])]
    loan_behavior: Annotated[int, Field(ge=0, le=5, description="Loan behaviour, 0 (none) to 5 (heavy or late)", examples=[2])]


class RecommendationResponse(BaseModel):
    """Segment, financial health and one product per category with the model's confidence."""

    cluster: Annotated[int, Field(description="Customer segment index (K-Means cluster)")]
    segment: Annotated[str, Field(description="Segment name")]
    financial_health_score: Annotated[float, Field(ge=0, le=100, description="Financial health, 0-100")]
    income_tier: Annotated[IncomeTier, Field(description="low (<30k), medium (30-70k) or high (>70k)")]
    recommendations: Annotated[
        dict[Category, str | None],
        Field(description="Product name per category; null when nothing is recommended (see `withheld`)"),
    ]
    products: Annotated[dict[Category, ProductId | None], Field(description="Catalogue id of each recommended product")]
    confidence_scores: Annotated[
        dict[Category, float | None],
        Field(description="Model probability of the best product not held, 0-1, also when it is withheld for "
              "being below the category's confidence floor; null when every product of the category is held"),
    ]
    withheld: Annotated[
        dict[Category, str],
        Field(description="Why a category has no recommendation: the customer holds every product of it, or the "
              "best one's confidence is below the floor published in GET /v1/models/recommend"),
    ] = {}
    model_version: Annotated[str, Field(description="Version of the model that answered")]


class SegmentProfile(BaseModel):
    cluster: Annotated[int, Field(description="Segment index, as `cluster` in recommendations")]
    name: Annotated[str, Field(description="Segment name derived from its centroid")]
    share: Annotated[float, Field(ge=0, le=1, description="Share of training customers in the segment")]
    profile: Annotated[
        dict[str, float],
        Field(description="Centroid in original units: age, income, credit_score, monthly_spending, "
              "savings_balance, loan_amount, digital_engagement, spending_score, saving_frequency, "
              "loan_behavior, financial_health_score"),
    ]
    employment_mix: Annotated[dict[str, float], Field(description="Share of each employment status at the centroid")]


class SegmentsResponse(BaseModel):
    model_version: Annotated[str, Field(description="Version of the model the segments belong to")]
    segments: list[SegmentProfile]
