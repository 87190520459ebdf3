"""Completing scoring records from the stores: a record may leave out what the stock's stored market data
and the investor's stored history know.

A field the record gives is used as given; a missing one is taken from the stock item (its latest
bar and market features) or the investor item (risk tolerance and purchase history, with the
history-based features computed as of the stock's latest bar by the feature module). A record that
still lacks a day's bar, the stock's sector or category, or the investor's risk tolerance cannot be
scored and is refused naming what is missing; history-based features may stay missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from finscore.products.columns import Columns, distinct_codes, objects
from finscore.products.propensity.catalog import SECTORS
from finscore.products.propensity.features import (
    INVESTOR_FIELDS,
    MARKET_FIELDS,
    affinity,
    days_since,
    diversity,
    frequency,
    sector_indexes,
)
from finscore.products.propensity.repository import InvestorStore, StockStore
from finscore.products.propensity.settings import PropensityStoresSettings
from finscore.settings import load_settings

# What a record needs, given or stored, to be scored at all.
REQUIRED = ("open_price", "high_price", "low_price", "close_price", "volume", "avg_volume_30d", "sector",
            "market_cap_category", "risk_tolerance")


@dataclass(frozen=True)
class Stores:
    stocks: StockStore
    investors: InvestorStore


@lru_cache(maxsize=1)
def stores() -> Stores:
    settings = load_settings(PropensityStoresSettings)
    return Stores(StockStore(settings.stocks_table), InvestorStore(settings.investors_table))


def _ordinal(day: Any) -> float:
    return float(date.fromisoformat(str(day)).toordinal()) if day else np.nan


class _ById:
    """Values of stored items spread over the rows that name them (each distinct id looked up once)."""

    def __init__(self, ids: np.ndarray, items: Mapping[str, Mapping[str, Any]]):
        distinct, self.inverse = distinct_codes(ids)
        self.items = [items.get(key if isinstance(key, str) else str(key)) or {} for key in distinct]

    def known(self) -> np.ndarray:
        return np.array([bool(item) for item in self.items], dtype=bool)[self.inverse]

    def numbers(self, field: str) -> np.ndarray:
        values = np.array([np.nan if item.get(field) is None else float(item[field]) for item in self.items])
        return values[self.inverse] if len(values) else np.empty(0)

    def values(self, field: str) -> np.ndarray:
        return objects([item.get(field) for item in self.items])[self.inverse] if self.items else objects([])

    def ordinals(self, field: str) -> np.ndarray:
        """A date field as date.toordinal() numbers (NaN where absent)."""
        values = np.array([_ordinal(item.get(field)) for item in self.items])
        return values[self.inverse] if len(values) else np.empty(0)

    def sector_counts(self) -> np.ndarray:
        counts = np.array([[float((item.get("sector_counts") or {}).get(sector, 0)) for sector in SECTORS]
                           for item in self.items]).reshape(len(self.items), len(SECTORS))
        return counts[self.inverse]


def _numbers(columns: Columns, name: str, count: int) -> np.ndarray:
    values = columns.get(name)
    if values is None:
        return np.full(count, np.nan)
    array = np.asarray(values)
    if array.dtype == object:
        return np.array([np.nan if value is None else float(value) for value in array])
    return array.astype(np.float64)


def _absent_all(values: np.ndarray) -> np.ndarray:
    """Which elements of an object array are absent: None, or NaN (not equal to itself), in numpy's C loops."""
    return np.asarray((values == None) | (values != values), dtype=bool)  # noqa: E711


def _objects(columns: Columns, name: str, count: int) -> np.ndarray:
    """A text field; a field no record gave arrives as a column of NaN, and means absent."""
    values = columns.get(name)
    if values is None:
        return objects([None] * count)
    array = objects(list(values))
    array[_absent_all(array)] = None
    return array


def complete(columns: Columns, count: int, stocks: Mapping[str, Mapping[str, Any]],
             investors: Mapping[str, Mapping[str, Any]]) -> tuple[Columns, dict[int, str]]:
    """COLUMNS with missing fields taken from STOCKS and INVESTORS (items by id), and the rows that still
    cannot be scored with their reasons."""
    stock = _ById(columns["stock_id"], stocks)
    investor = _ById(columns["user_id"], investors)
    filled: Columns = dict(columns)
    for name in (*MARKET_FIELDS, "day_of_week"):
        given = _numbers(columns, name, count)
        filled[name] = np.where(np.isnan(given), stock.numbers(name), given)
    for name, source in (("sector", stock), ("market_cap_category", stock), ("risk_tolerance", investor)):
        given = _objects(columns, name, count)
        stored = source.values(name)
        filled[name] = np.where(_absent_all(given), stored, given)

    # History-based investor features, as of the day of the stock's latest bar (else the investor's own).
    as_of = stock.ordinals("as_of")
    as_of = np.where(np.isnan(as_of), investor.ordinals("as_of"), as_of)
    counts = investor.sector_counts()
    derived = {
        "days_since_last_purchase": days_since(investor.ordinals("last_purchase"), as_of),
        "portfolio_diversity_score": diversity(counts),
        "purchase_frequency": np.where(investor.known(), frequency(investor.numbers("recent_purchases")), np.nan),
        "sector_affinity": affinity(counts, sector_indexes(filled["sector"])),
    }
    for name, values in derived.items():
        given = _numbers(columns, name, count)
        filled[name] = np.where(np.isnan(given), values, given)

    reasons: dict[int, str] = {}
    missing = {name: np.isnan(filled[name]) if filled[name].dtype != object else _absent_all(filled[name])
               for name in REQUIRED}
    unknown_stock, unknown_investor = ~stock.known(), ~investor.known()
    for row in np.flatnonzero(np.any(list(missing.values()), axis=0)).tolist():
        absent = [name for name in REQUIRED if missing[name][row]]
        if absent:
            whose = [f"stock {columns['stock_id'][row]!r} has no stored market data" if unknown_stock[row] else "",
                     f"investor {columns['user_id'][row]!r} has no stored history" if unknown_investor[row] else ""]
            note = "; ".join(part for part in whose if part)
            reasons[row] = f"{', '.join(absent)}: missing" + (f" ({note})" if note else "")
    with np.errstate(invalid="ignore"):
        high, low = filled["high_price"], filled["low_price"]
        open_, close = filled["open_price"], filled["close_price"]
        too_low_high = high < np.maximum(np.maximum(open_, close), low)
        too_high_low = low > np.minimum(open_, close)
    for row in np.flatnonzero(too_low_high | too_high_low).tolist():
        if row not in reasons:
            reasons[row] = "high_price: must be at least open, close and low" if too_low_high[row] \
                else "low_price: must be at most open and close"
    return filled, reasons


def stored_fields(columns: Columns, count: int) -> tuple[Columns, dict[int, str]]:
    """The product's enrich hook: the stocks and investors of the records that leave something out are
    fetched (a record that gives every field needs no read), then `complete`."""
    if count == 0:
        return columns, {}

    def leaves_out(names: tuple[str, ...]) -> np.ndarray:
        gaps = np.zeros(count, dtype=bool)
        for name in names:
            values = columns.get(name)
            if values is None:
                return np.ones(count, dtype=bool)
            array = np.asarray(values)
            gaps |= np.isnan(array) if array.dtype != object else _absent_all(array)
        return gaps

    found = stores()
    stock_rows = leaves_out((*MARKET_FIELDS, "day_of_week", "sector", "market_cap_category"))
    # History features are taken as of the stock's latest bar, so they need the stock too.
    investor_rows = leaves_out(("risk_tolerance", *INVESTOR_FIELDS))
    stock_rows |= investor_rows
    stock_ids = sorted({str(value) for value in np.asarray(columns["stock_id"])[stock_rows]})
    user_ids = sorted({str(value) for value in np.asarray(columns["user_id"])[investor_rows]})
    return complete(columns, count, found.stocks.get_many(stock_ids) if stock_ids else {},
                    found.investors.get_many(user_ids) if user_ids else {})
