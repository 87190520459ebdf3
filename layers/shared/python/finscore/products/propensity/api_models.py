"""Request and response models of the propensity routes; they drive validation and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from finscore.products.propensity.records import BarRecord

MAX_BATCH_RECORDS = 1_000
MAX_BARS_PER_REQUEST = 5_000


class ScoreResponse(BaseModel):
    user_id: str
    stock_id: str
    propensity: Annotated[float, Field(ge=0, le=1, description="Probability that the investor buys the stock on "
                                                               "the next trading day")]
    purchase: Annotated[bool, Field(description="propensity at or above the decision threshold")]
    threshold: Annotated[float, Field(description="Decision threshold, chosen on validation (best F1)")]
    filled_from_store: Annotated[list[str], Field(description="Fields the request left out that came from the "
                                                              "stock's market data or the investor's history")]
    model_version: str


class BatchScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: Annotated[list[Any], Field(min_length=1, max_length=MAX_BATCH_RECORDS,
                                        description="Up to 1,000 score request bodies; a bad one fails alone")]


class FieldIssueModel(BaseModel):
    field: str
    issue: str


class RecordError(BaseModel):
    index: int
    code: str
    message: str
    details: list[FieldIssueModel]


class BatchResult(BaseModel):
    index: int
    user_id: str
    stock_id: str
    propensity: float
    purchase: bool


class BatchScoreResponse(BaseModel):
    model_version: str
    threshold: float
    scored: int
    failed: int
    results: list[BatchResult]
    errors: list[RecordError]


class RankedStock(BaseModel):
    rank: int
    stock_id: str
    name: str | None = None
    sector: str | None = None
    market_cap_category: str | None = None
    propensity: float
    purchase: bool
    as_of: Annotated[str | None, Field(description="Day of the stock's latest bar")] = None


class TopStocksResponse(BaseModel):
    user_id: str
    model_version: str
    threshold: float
    universe: Annotated[int, Field(description="Stocks ranked")]
    stocks: Annotated[list[RankedStock], Field(description="Highest propensity first")]


class StoredBar(BaseModel):
    date: str
    open: float
    high: float
    low: float
    close: float
    volume: float


class StockBarsResponse(BaseModel):
    stock_id: str
    name: str | None = None
    sector: str | None = None
    market_cap_category: str | None = None
    bars: Annotated[list[StoredBar], Field(description="Daily bars, oldest first")]


class MarketDataRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bars: Annotated[list[Any], Field(min_length=1, max_length=MAX_BARS_PER_REQUEST,
                                     description="Daily bars: " + ", ".join(BarRecord.model_fields))]


class BarReject(BaseModel):
    index: int
    reason: str


class StockUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")

    stock_id: str
    as_of: str
    bars: Annotated[int, Field(description="Bars the features were computed from")]


class MarketDataResponse(BaseModel):
    received: int
    stored: int
    rejected: int
    rejects: list[BarReject]
    stocks_updated: list[StockUpdate]


