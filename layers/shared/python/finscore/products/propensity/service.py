"""What the propensity API does: score records completed from the stores, rank a universe of stocks for
an investor, and take in market data that updates the stocks' stored features."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from pydantic import ValidationError

from finscore.api.errors import validation_issues
from finscore.errors import FieldIssue, NotFound, ValidationFailed
from finscore.products.columns import columns_of, take
from finscore.products.propensity.api_models import (
    BarReject,
    BatchResult,
    BatchScoreResponse,
    FieldIssueModel,
    MarketDataResponse,
    RankedStock,
    RecordError,
    ScoreResponse,
    StockBarsResponse,
    StockUpdate,
    StoredBar,
    TopStocksResponse,
)
from finscore.products.propensity.features import HISTORY_BARS, VOLUME_WINDOW, stock_snapshot
from finscore.products.propensity.records import BarRecord, ScoreRecord, bar_problems
from finscore.products.propensity.repository import BarStore
from finscore.products.propensity.settings import PropensityApiSettings
from finscore.products.propensity.spec import NAME
from finscore.products.propensity.stores import complete, stores
from finscore.products.scoring import Scorer, row_outputs, scorer
from finscore.records import describe_errors
from finscore.settings import load_settings

RECORD_FIELDS = tuple(ScoreRecord.model_fields)


@lru_cache(maxsize=1)
def _bars() -> BarStore:
    return BarStore(load_settings(PropensityApiSettings).bars_table)


def _threshold(scoring: Scorer) -> float:
    return float(scoring.loaded.manifest.thresholds["decision_threshold"])


def _completed(scoring: Scorer, records: Sequence[dict[str, Any]]) -> tuple[dict, dict[int, str]]:
    columns = columns_of(records, RECORD_FIELDS)
    return scoring.enrich(columns, len(records))


def _issues(reason: str) -> list[FieldIssue]:
    """'a, b: missing (note)' or 'field: problem' as one issue per field."""
    fields, _, issue = reason.partition(": ")
    return [FieldIssue(field.strip(), issue) for field in fields.split(",")]


def score(record: ScoreRecord) -> ScoreResponse:
    scoring = scorer(NAME)
    given = record.model_dump()
    columns, unscorable = _completed(scoring, [given])
    if unscorable:
        raise ValidationFailed("The record cannot be scored: " + unscorable[0], _issues(unscorable[0]))
    outputs = row_outputs(scoring.predict(columns), 0)
    filled = [name for name in RECORD_FIELDS if given.get(name) is None and name in columns
              and _present(columns[name][0])]
    return ScoreResponse(user_id=record.user_id, stock_id=record.stock_id, propensity=outputs["propensity"],
                         purchase=outputs["purchase"], threshold=_threshold(scoring), filled_from_store=filled,
                         model_version=scoring.version)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _error(index: int, message: str, issues: list[FieldIssue]) -> RecordError:
    return RecordError(index=index, code="validation_failed", message=message,
                       details=[FieldIssueModel(field=issue.field, issue=issue.issue) for issue in issues])


def score_batch(records: list[Any]) -> BatchScoreResponse:
    """Up to 1,000 records; a bad one is reported with its index and reasons and fails alone."""
    scoring = scorer(NAME)
    errors: list[RecordError] = []
    valid: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(records):
        try:
            valid.append((index, ScoreRecord.model_validate(raw).model_dump()))
        except ValidationError as exc:
            issues = validation_issues(exc.errors())
            errors.append(_error(index, f"{len(issues)} field(s) failed validation", issues))
    results: list[BatchResult] = []
    if valid:
        columns, unscorable = _completed(scoring, [record for _, record in valid])
        for position, reason in unscorable.items():
            errors.append(_error(valid[position][0], "The record cannot be scored: " + reason, _issues(reason)))
        keep = np.array([position not in unscorable for position in range(len(valid))], dtype=bool)
        outputs = scoring.predict(take(columns, keep))
        kept = [record for record, ok in zip(valid, keep.tolist()) if ok]
        for row, (index, record) in enumerate(kept):
            answer = row_outputs(outputs, row)
            results.append(BatchResult(index=index, user_id=record["user_id"], stock_id=record["stock_id"],
                                       propensity=answer["propensity"], purchase=answer["purchase"]))
    errors.sort(key=lambda error: error.index)
    return BatchScoreResponse(model_version=scoring.version, threshold=_threshold(scoring), scored=len(results),
                              failed=len(errors), results=results, errors=errors)


def top_stocks(user_id: str, limit: int) -> TopStocksResponse:
    """Every stock of the universe scored for USER_ID with their stored features, highest first."""
    scoring = scorer(NAME)
    found = stores()
    investor = found.investors.get(user_id)
    if investor is None:
        raise NotFound(f"Unknown investor {user_id}", [FieldIssue("user_id", "no stored history")])
    universe = {stock["stock_id"]: stock for stock in found.stocks.universe()}
    ids = sorted(universe)
    columns = columns_of([{"user_id": user_id, "stock_id": stock_id} for stock_id in ids], RECORD_FIELDS)
    columns, unscorable = complete(columns, len(ids), universe, {user_id: investor})
    keep = np.array([row not in unscorable for row in range(len(ids))], dtype=bool)
    outputs = scoring.predict(take(columns, keep))
    scored = [stock_id for stock_id, ok in zip(ids, keep.tolist()) if ok]
    order = sorted(range(len(scored)), key=lambda row: (-outputs["propensity"][row], scored[row]))[:limit]
    stocks = []
    for rank, row in enumerate(order, start=1):
        stock = universe[scored[row]]
        stocks.append(RankedStock(rank=rank, stock_id=scored[row], name=stock.get("name"), sector=stock.get("sector"),
                                  market_cap_category=stock.get("market_cap_category"),
                                  propensity=float(outputs["propensity"][row]),
                                  purchase=bool(outputs["purchase"][row]), as_of=stock.get("as_of")))
    return TopStocksResponse(user_id=user_id, model_version=scoring.version, threshold=_threshold(scoring),
                             universe=len(scored), stocks=stocks)


def stock_bars(stock_id: str, days: int) -> StockBarsResponse:
    """The stock's latest DAYS daily bars, oldest first, with what is stored about the stock."""
    stock = stores().stocks.get_many([stock_id]).get(stock_id)
    if stock is None:
        raise NotFound(f"Unknown stock {stock_id}", [FieldIssue("stock_id", "no stored market data")])
    bars = [StoredBar(**{field: bar[field] for field in StoredBar.model_fields}) for bar in _bars().recent(stock_id, days)]
    return StockBarsResponse(stock_id=stock_id, name=stock.get("name"), sector=stock.get("sector"),
                             market_cap_category=stock.get("market_cap_category"), bars=bars)


def add_market_data(raw: list[Any]) -> MarketDataResponse:
    """Bars validated one by one; the good ones stored (a bar again for the same day replaces it) and
    each affected stock's features recomputed from its recent bars. Every rejected bar is listed with
    its index and reason; when none is good the answer is 422."""
    found = stores()
    rejects: list[BarReject] = []
    bars: dict[tuple[str, str], tuple[int, BarRecord]] = {}
    for index, item in enumerate(raw):
        try:
            bar = BarRecord.model_validate(item)
        except ValidationError as exc:
            rejects.append(BarReject(index=index, reason=describe_errors(exc)))
            continue
        problems = bar_problems(bar)
        key = (bar.stock_id, bar.date.isoformat())
        if not problems and key in bars:
            problems = [f"date: duplicate of bar {bars[key][0]} for this stock and day"]
        if problems:
            rejects.append(BarReject(index=index, reason="; ".join(problems)))
            continue
        bars[key] = (index, bar)
    known = found.stocks.get_many(sorted({stock_id for stock_id, _ in bars}))
    for key, (index, bar) in list(bars.items()):
        if bar.stock_id not in known and (bar.sector is None or bar.market_cap_category is None):
            rejects.append(BarReject(index=index, reason="sector, market_cap_category: required for a stock not "
                                                         "seen before"))
            del bars[key]
    rejects.sort(key=lambda reject: reject.index)
    if not bars:
        raise ValidationFailed(f"All {len(raw)} bar(s) were rejected",
                               [FieldIssue(f"bars[{reject.index}]", reject.reason) for reject in rejects])
    stored = _bars().put_many({"stock_id": bar.stock_id, "date": bar.date.isoformat(), "open": bar.open,
                               "high": bar.high, "low": bar.low, "close": bar.close, "volume": bar.volume}
                              for _, bar in bars.values())
    latest: dict[str, BarRecord] = {}
    for _, bar in bars.values():
        latest[bar.stock_id] = bar
    updated = []
    for stock_id, bar in sorted(latest.items()):
        snapshot = stock_snapshot(_bars().recent(stock_id, HISTORY_BARS + VOLUME_WINDOW))
        stock = {**known.get(stock_id, {"stock_id": stock_id}), **snapshot}
        stock.update({field: getattr(bar, field) for field in ("name", "sector", "market_cap_category")
                      if getattr(bar, field) is not None})
        found.stocks.put_many([stock])
        updated.append(StockUpdate.model_validate({key: value for key, value in stock.items()
                                                   if key not in ("universe",)}))
    return MarketDataResponse(received=len(raw), stored=stored, rejected=len(rejects), rejects=rejects,
                              stocks_updated=updated)
