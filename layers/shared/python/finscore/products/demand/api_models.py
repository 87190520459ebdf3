"""Request and response models of the demand routes; they drive validation and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

MAX_QUERIES = 1_000
MAX_SALES_PER_REQUEST = 5_000
MAX_SAMPLE_COUNT = 500


class FieldIssueModel(BaseModel):
    field: str
    issue: str


class RecordError(BaseModel):
    index: Annotated[int, Field(description="Position of the record in the request list")]
    message: str
    details: list[FieldIssueModel]


class DemandContext(BaseModel):
    """Where an answer comes from: the pincode's region, the week it is as of, and whose history."""

    index: int
    pincode: str
    product: str
    channel: str
    region_id: Annotated[str | None, Field(description="The pincode's region (demand-profile cluster)")]
    as_of: Annotated[str | None, Field(description="Monday of the latest week of history used; the answer is "
                                                   "for the week after it")]
    basis: Annotated[str, Field(description="pincode: its own sales history; city: the mean pincode of its city "
                                            "(unknown pincode); overall: the mean pincode of all")]
    note: Annotated[str | None, Field(description="Why the answer is not from the pincode's own history")] = None


class Prediction(DemandContext):
    predicted_demand: Annotated[float, Field(ge=0, description="Sales expected in the next week")]
    confidence: Annotated[float, Field(ge=0, le=1, description="Probability (calibrated on held-out weeks) that "
                                                               "sales fall within max(1, 25%) of the prediction")]
    interval: Annotated[list[float], Field(min_length=2, max_length=2,
                                           description="90% interval of next week's sales [lower, upper]")]


class Rise(DemandContext):
    demand_rise: Annotated[bool, Field(description="Next week's sales likely exceed this week's")]
    probability: Annotated[float, Field(ge=0, le=1)]


class TopProduct(DemandContext):
    top_product: str
    probability: Annotated[float, Field(ge=0, le=1)]
    all_products: Annotated[dict[str, float], Field(description="Probability that each product sells most next "
                                                                "week in the pincode and channel")]


class PredictResponse(BaseModel):
    model_version: str
    results: list[Prediction]
    errors: list[RecordError]


class RiseResponse(BaseModel):
    model_version: str
    results: list[Rise]
    errors: list[RecordError]


class TopProductResponse(BaseModel):
    model_version: str
    results: list[TopProduct]
    errors: list[RecordError]


class InvalidRecord(BaseModel):
    index: Annotated[int, Field(description="0-based position of the record: in the JSON list, or among the CSV "
                                            "rows after the header")]
    fields: list[str]
    reason: str


class SalesResponse(BaseModel):
    received: int
    inserted_count: Annotated[int, Field(description="Sales stored now")]
    duplicate_count: Annotated[int, Field(description="Valid sales already stored (same record): not stored again")]
    invalid_records: list[InvalidRecord]
    weeks_updated: Annotated[int, Field(description="Pincode-weeks whose weekly sales changed")]


class SampleDataRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: Annotated[int, Field(ge=1, le=MAX_SAMPLE_COUNT, description=f"Sales to generate, 1-{MAX_SAMPLE_COUNT}")] = 10


class SampleDataResponse(BaseModel):
    inserted_count: int
    records: list[dict[str, Any]]


class Distribution(BaseModel):
    distribution: dict[str, float]


class ProductMix(Distribution):
    top_product: str | None


class ChannelMix(Distribution):
    top_channel: str | None


class RegionSummary(BaseModel):
    region_id: str
    pincode_count: int
    cities: list[str]
    total_demand: float
    top_product: str | None
    top_channel: str | None
    demand_rise_flag: bool


class RegionsResponse(BaseModel):
    model_version: str
    as_of: Annotated[str, Field(description="Monday of the last week the regions were computed from")]
    regions: list[RegionSummary]


class RegionDetail(BaseModel):
    region_id: str
    pincodes: list[str]
    cities: list[str]
    total_demand: Annotated[float, Field(description="Sales of the region's pincodes over the last 13 weeks")]
    avg_demand_per_pincode: float
    products: ProductMix
    channels: ChannelMix
    growth: Annotated[float, Field(description="Mean of (last 13 weeks + 1) / (13 weeks before + 1) per pincode")]
    demand_rise_flag: Annotated[bool, Field(description="growth above 1")]
    model_version: str
    as_of: str
