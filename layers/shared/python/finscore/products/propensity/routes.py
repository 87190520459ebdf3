"""The propensity routes: score one investor and stock or a batch, rank the stocks for an investor,
take in market data, and the latest drift report of the champion."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from finscore.api.errors import route_responses
from finscore.errors import FieldIssue, NotFound, ValidationFailed
from finscore.observability import metrics
from finscore.products.propensity import service
from finscore.platform.schemas import DriftReport
from finscore.products.propensity.api_models import (
    MAX_BARS_PER_REQUEST,
    BatchScoreRequest,
    BatchScoreResponse,
    MarketDataRequest,
    MarketDataResponse,
    ScoreResponse,
    StockBarsResponse,
    TopStocksResponse,
)
from finscore.products.propensity.records import ScoreRecord
from finscore.products.propensity.settings import PropensityApiSettings
from finscore.products.propensity.spec import NAME
from finscore.settings import load_settings

router = Router()
# A chart's worth of daily bars: about a year of trading days.
MAX_BARS_SHOWN = 260


@router.post("/v1/propensity/score", tags=["propensity"], summary="Propensity of an investor to buy a stock",
             description="The seed's body as it is: the day's bar of the stock and the investor's profile. Fields "
             "left out are taken from the stock's stored market data and the investor's stored history "
             "(filled_from_store lists them); the answer is the probability of a purchase on the next trading "
             "day and the purchase flag at the threshold chosen on validation.")
def score(record: ScoreRecord) -> ScoreResponse:
    result = service.score(record)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=1)
    return result


@router.post("/v1/propensity/score/batch", tags=["propensity"], summary="Score up to 1,000 records",
             description="Each record is a score request body; a bad record fails alone, reported with its index "
             "and reasons.")
def score_batch(request: BatchScoreRequest) -> BatchScoreResponse:
    result = service.score_batch(request.records)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=result.scored)
    return result


@router.get("/v1/propensity/users/<user_id>/top-stocks", tags=["propensity"],
            summary="The stocks an investor is likeliest to buy next, highest first",
            description="Every stock of the universe scored with its stored market features and the investor's "
            "stored history.",
            responses=route_responses(404, s404="No stored history for this investor"))
def top_stocks(
    user_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                                 description="The investor")],
    limit: Annotated[int, Query(ge=1, le=100, description="How many stocks, 1-100")] = 10,
) -> TopStocksResponse:
    result = service.top_stocks(user_id, limit)
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=result.universe)
    return result


@router.get("/v1/propensity/stocks/<stock_id>/bars", tags=["propensity"],
            summary="A stock's latest daily bars (price and volume), oldest first",
            responses=route_responses(404, s404="No stored market data for this stock"))
def stock_bars(
    stock_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                                  description="The stock")],
    days: Annotated[int, Query(ge=1, le=MAX_BARS_SHOWN, description=f"How many trading days, 1-{MAX_BARS_SHOWN}")] = 90,
) -> StockBarsResponse:
    return service.stock_bars(stock_id, days)


@router.post("/v1/propensity/market-data", tags=["propensity"], summary="Add daily bars; stock features are updated",
             description="Bars ({\"bars\": [...]} or a JSON list), validated one by one. Valid ones are stored (a bar "
             "for a stock and day already stored replaces it) and the affected stocks' features recomputed; every "
             "rejected bar is listed with its index and reason. When none is valid the answer is 422.")
def market_data(
    body: Annotated[MarketDataRequest | list[Any], Body(description="Bars: a list, or {\"bars\": [...]}")],
) -> MarketDataResponse:
    bars = body.bars if isinstance(body, MarketDataRequest) else body
    if not bars:
        raise ValidationFailed("No bars in the request", [FieldIssue("bars", "empty list")])
    if len(bars) > MAX_BARS_PER_REQUEST:
        raise ValidationFailed(f"At most {MAX_BARS_PER_REQUEST} bars per request",
                               [FieldIssue("bars", f"{len(bars)} bars; send at most {MAX_BARS_PER_REQUEST}")])
    return service.add_market_data(bars)


@router.get("/v1/propensity/drift", tags=["propensity"], summary="Latest drift report of the propensity champion",
            responses=route_responses(404, s404="No drift report yet"))
def drift() -> DriftReport:
    from finscore.drift.store import latest_report

    report = latest_report(load_settings(PropensityApiSettings).data_bucket, NAME)
    if report is None:
        raise NotFound(f"No drift report for {NAME} yet; the drift monitor writes one daily",
                       [FieldIssue("product", "no drift report yet")])
    return DriftReport.model_validate(report)
