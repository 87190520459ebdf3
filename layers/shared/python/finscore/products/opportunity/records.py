"""The records of the opportunity product: a business to score (API, batch file rows, users' training
rows), a stored business, a review text and a set of economic indicators."""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from finscore.products.opportunity.catalog import BUSINESS_TYPES, business_type_name, location_text

Location = Annotated[str, BeforeValidator(location_text),
                     Field(min_length=2, max_length=120, pattern=r"^[\w .,'()&/-]+$",
                           description="\"<neighbourhood>, <city>\", as GET /v1/opportunities/locations lists them",
                           examples=["Koramangala, Bengaluru"])]
BusinessType = Annotated[Literal[BUSINESS_TYPES], BeforeValidator(business_type_name),  # type: ignore[valid-type]
                         Field(description=" | ".join(BUSINESS_TYPES), examples=["cafe"])]
BusinessId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                                  description="The business's id", examples=["BIZ000123"])]
Revenue = Annotated[float, Field(ge=0, le=1e11, allow_inf_nan=False, description="Annual revenue, INR",
                                 examples=[2_400_000])]
Age = Annotated[float, Field(ge=0, le=200, allow_inf_nan=False, description="Years in business", examples=[6])]
Rating = Annotated[float, Field(ge=1, le=5, allow_inf_nan=False, description="Customer rating, 1-5",
                                examples=[4.2])]
Sentiment = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False,
                                   description="Mean VADER compound of the location's reviews, -1..1")]
Rate = Annotated[float, Field(ge=-10, le=100, allow_inf_nan=False)]


ReviewText = Annotated[str, Field(min_length=1, max_length=5_000, description="A review or post (VADER reads English)",
                                  examples=["Lovely cafes and friendly people!"])]


class OpportunityRecord(BaseModel):
    """One business to score. sentiment_score is the location's (from its stored reviews when left out);
    inflation_rate and interest_rate are the latest stored indicators when left out."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    business_id: BusinessId | None = None
    location: Location | None = None
    business_type: BusinessType
    revenue: Revenue
    age: Age
    rating: Rating
    sentiment_score: Sentiment | None = None
    inflation_rate: Annotated[Rate | None, Field(description="Inflation, percent a year", examples=[5.1])] = None
    interest_rate: Annotated[Rate | None, Field(description="Policy interest rate, percent", examples=[6.5])] = None


class Business(BaseModel):
    """A business as the businesses table holds it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    business_id: BusinessId
    location: Location
    business_type: BusinessType
    revenue: Revenue
    age: Age
    rating: Rating


class Review(BaseModel):
    """One review or social text about a location (a row of a dropped reviews file)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    location: Location
    text: ReviewText


class Indicators(BaseModel):
    """Economic indicators effective from a date; the latest effective date applies to scores."""

    model_config = ConfigDict(extra="forbid")

    effective_date: Annotated[Date, Field(description="From when they apply (ISO date)", examples=["2026-12-01"])]
    inflation_rate: Annotated[Rate, Field(description="Consumer price inflation, percent a year", examples=[5.1])]
    interest_rate: Annotated[Rate, Field(description="Policy interest rate, percent a year", examples=[6.5])]
    market_index: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False, description="Market index level",
                                         examples=[24_350.5])]

    def item(self) -> dict[str, Any]:
        """As stored: rates to 4 decimals and the index to 2 (a value like 5e-324 is valid input, but no
        DynamoDB number; nobody quotes rates finer than that)."""
        return {"effective_date": self.effective_date.isoformat(), "inflation_rate": round(self.inflation_rate, 4),
                "interest_rate": round(self.interest_rate, 4), "market_index": round(self.market_index, 2)}
