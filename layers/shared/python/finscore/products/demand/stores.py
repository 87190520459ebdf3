"""Completing demand questions from the stores: a row names a pincode, product and channel, and its
history features come from the pincode's stored weekly sales, computed by the feature module as of
the pincode's latest stored week. A pincode with no stored week keeps its history missing; the model
answers it from its city or from every pincode (finscore.products.demand.model)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from finscore.products.columns import Columns, objects
from finscore.products.demand.catalog import SERIES
from finscore.products.demand.features import HISTORY_FIELDS, HISTORY_WEEKS, history_features
from finscore.products.demand.repository import SERIES_ATTRIBUTES, SeriesStore
from finscore.products.demand.settings import DemandStoresSettings
from finscore.remembered import Remembered
from finscore.settings import load_settings

_SERIES_INDEX = {pair: index for index, pair in enumerate(SERIES)}


# How long a warm function answers a pincode from the history it last read. A pincode's weekly items
# change only when its sales arrive, and a forecast is of next week: re-reading up to 53 weeks per
# pincode on every request would cost more than the model. Sales taken in by this function drop what
# it remembers at once (forget_histories); sales ingested elsewhere show within this many seconds.
HISTORY_TTL_S = 30.0


@lru_cache(maxsize=1)
def series_store() -> SeriesStore:
    return SeriesStore(load_settings(DemandStoresSettings).series_table)


@lru_cache(maxsize=1)
def _remembered() -> Remembered[tuple[str, np.ndarray] | None]:
    return Remembered()


def forget_histories() -> None:
    """Read every pincode's history afresh: sales were just added."""
    _remembered.cache_clear()


def _history(store: SeriesStore, pincode: str) -> tuple[str, np.ndarray] | None:
    return _remembered().get(pincode, lambda: pincode_history(store.recent(pincode, HISTORY_WEEKS)),
                             HISTORY_TTL_S)


def pincode_history(items: Sequence[Mapping[str, Any]]) -> tuple[str, np.ndarray] | None:
    """The history fields of each series (len(SERIES), len(HISTORY_FIELDS)) as of the latest of a
    pincode's weekly ITEMS, and that week; weeks without an item sold nothing."""
    if not items:
        return None
    weeks = sorted(date.fromisoformat(str(item["week"])) for item in items)
    last = weeks[-1]
    span = HISTORY_WEEKS
    first = last - timedelta(weeks=span - 1)
    counts = np.zeros((1, len(SERIES), span))
    ages = np.zeros((1, span))
    incomes = np.zeros((1, span))
    for item in items:
        offset = (date.fromisoformat(str(item["week"])) - first).days // 7
        if not 0 <= offset < span:
            continue
        for index, attribute in enumerate(SERIES_ATTRIBUTES):
            counts[0, index, offset] = float(item.get(attribute) or 0)
        ages[0, offset] = float(item.get("age_sum") or 0)
        incomes[0, offset] = float(item.get("income_sum") or 0)
    # Weeks before the pincode's first stored week are unknown, not empty.
    known_from = (weeks[0] - first).days // 7
    history = history_features(counts, ages, incomes)
    values = np.array([[history[name][0, series, -1] for name in HISTORY_FIELDS] for series in range(len(SERIES))])
    if known_from > 0:
        seasonal = HISTORY_FIELDS.index("seasonal_lag")
        values[:, seasonal] = np.where(known_from > 1, np.nan, values[:, seasonal])
    return last.isoformat(), values


def _inverse(values: Any) -> tuple[list[Any], np.ndarray]:
    """The distinct VALUES in order of appearance, and each value's position among them."""
    distinct: dict[Any, int] = {}
    inverse = np.fromiter((distinct.setdefault(value, len(distinct)) for value in values), dtype=np.int64,
                          count=len(values))
    return list(distinct), inverse


def complete(columns: Columns, count: int, histories: Mapping[str, tuple[str, np.ndarray] | None]) -> Columns:
    """COLUMNS with each row's history fields and as-of week from HISTORIES (by pincode); each distinct
    pincode and series is looked up once, so a file of a million rows costs array indexing."""
    filled: Columns = dict(columns)
    pincodes, pincode_rows = _inverse(columns["pincode"])
    pairs, pair_rows = _inverse(list(zip(columns["product"], columns["channel"])))
    # One table row per distinct pincode, plus a last row of NaN for rows whose series is unknown.
    table = np.full((len(pincodes) + 1, len(SERIES) + 1, len(HISTORY_FIELDS)), np.nan)
    weeks = np.empty(len(pincodes) + 1, dtype=object)
    for position, pincode in enumerate(pincodes):
        found = histories.get(pincode) if isinstance(pincode, str) else None
        if found is not None:
            weeks[position] = found[0]
            table[position, :len(SERIES)] = found[1]
    series = np.array([_SERIES_INDEX.get(pair, len(SERIES)) for pair in pairs], dtype=np.int64)
    values = table[pincode_rows, series[pair_rows] if len(series) else pair_rows]
    for position, name in enumerate(HISTORY_FIELDS):
        filled[name] = values[:, position]
    filled["as_of"] = weeks[pincode_rows] if count else objects([])
    return filled


def stored_history(columns: Columns, count: int) -> tuple[Columns, dict[int, str]]:
    """The product's enrich hook: one query of the latest weeks per distinct pincode not read in the
    last HISTORY_TTL_S seconds. No row is refused: a pincode without history is answered from its city
    or region by the model."""
    if count == 0:
        return columns, {}
    store = series_store()
    pincodes = sorted({str(value) for value in columns["pincode"] if isinstance(value, str)})
    histories = {pincode: _history(store, pincode) for pincode in pincodes}
    return complete(columns, count, histories), {}
