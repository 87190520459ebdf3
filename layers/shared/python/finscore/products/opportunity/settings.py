"""Environment settings of the opportunity functions, validated at cold start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from finscore.settings import FunctionSettings, ModelServingSettings


class OpportunityContextSettings(FunctionSettings):
    """What a business is scored in: its location's sentiment and the economy (the API, and batch files)."""

    locations_table: Annotated[str, Field(alias="OPPORTUNITY_LOCATIONS_TABLE", min_length=3)]
    indicators_table: Annotated[str, Field(alias="OPPORTUNITY_INDICATORS_TABLE", min_length=3)]


class OpportunityReviewsSettings(FunctionSettings):
    """Where review texts go in: the reviews and the locations' sums."""

    locations_table: Annotated[str, Field(alias="OPPORTUNITY_LOCATIONS_TABLE", min_length=3)]
    reviews_table: Annotated[str, Field(alias="OPPORTUNITY_REVIEWS_TABLE", min_length=3)]


class OpportunityApiSettings(OpportunityContextSettings, OpportunityReviewsSettings, ModelServingSettings):
    businesses_table: Annotated[str, Field(alias="OPPORTUNITY_BUSINESSES_TABLE", min_length=3)]


class OpportunityIngestSettings(OpportunityReviewsSettings):
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
