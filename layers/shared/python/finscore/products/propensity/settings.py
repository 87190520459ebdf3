"""Environment settings of the propensity API, validated at cold start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from finscore.settings import FunctionSettings, ModelServingSettings


class PropensityStoresSettings(FunctionSettings):
    """The stores a record's missing fields come from (the API, and batch scoring of files)."""

    stocks_table: Annotated[str, Field(alias="PROPENSITY_STOCKS_TABLE", min_length=3)]
    investors_table: Annotated[str, Field(alias="PROPENSITY_INVESTORS_TABLE", min_length=3)]


class PropensityApiSettings(PropensityStoresSettings, ModelServingSettings):
    bars_table: Annotated[str, Field(alias="PROPENSITY_BARS_TABLE", min_length=3)]
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
