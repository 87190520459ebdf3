"""Environment settings of the demand API, validated at cold start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from finscore.settings import FunctionSettings, ModelServingSettings


class DemandStoresSettings(FunctionSettings):
    """The weekly series a record's history features come from (the API, and batch scoring of files)."""

    series_table: Annotated[str, Field(alias="DEMAND_SERIES_TABLE", min_length=3)]


class DemandApiSettings(DemandStoresSettings, ModelServingSettings):
    sales_table: Annotated[str, Field(alias="DEMAND_SALES_TABLE", min_length=3)]
