"""Environment settings of the demand functions, validated at cold start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from finscore.settings import FunctionSettings, ModelServingSettings


class DemandStoresSettings(FunctionSettings):
    """The weekly series a record's history features come from (the API, and batch scoring of files)."""

    series_table: Annotated[str, Field(alias="DEMAND_SERIES_TABLE", min_length=3)]


class DemandSalesSettings(DemandStoresSettings):
    """Where sales go in: the sales table and the weekly series they add to."""

    sales_table: Annotated[str, Field(alias="DEMAND_SALES_TABLE", min_length=3)]


class DemandApiSettings(DemandSalesSettings, ModelServingSettings):
    pass


class DemandIngestSettings(DemandSalesSettings):
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
