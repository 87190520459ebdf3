"""The propensity feature module: the one place market and investor data become model inputs.

A row is an (investor, stock, day t) triple; its features use bars up to and including day t and
the investor's purchases up to t, and the model says how likely the investor buys the stock on the
next trading day. Training computes them over a whole panel of days at once, market-data ingest and
the local seed over one stock's recent bars, the API over a request; every path calls the functions
here, so each feature has one definition. numpy only.

Market features of a stock at day t:
- intraday_return = close / open - 1 and intraday_range = (high - low) / close, of day t's bar;
- volume_ratio = volume of day t / avg_volume_30d, the mean volume of the 30 trading days before t
  (capped at 20: a listing day or a halt makes the average meaningless);
- momentum_5d, momentum_20d, momentum_60d = close_t / close_{t-k} - 1;
- volatility_20d = standard deviation of the last 20 daily log returns;
missing (NaN) while a stock has too little history for a window.

Investor features at day t (purchases up to t):
- days_since_last_purchase (calendar days, capped at 365; NaN before a first purchase);
- purchase_frequency = purchases in the last 90 calendar days, per 30 days;
- portfolio_diversity_score = 1 - the Herfindahl index of the sectors of all purchases (0 one
  sector, towards 1 spread evenly; NaN before a first purchase);
- sector_affinity = share of all purchases in this stock's sector (NaN before a first purchase);
- risk_tolerance (low 0, medium 1, high 2).

With day_of_week (0 Monday .. 6), sector and market-cap category as their index in the catalogue.
A feature a request does not give and the stores cannot fill stays missing; the trees were trained
with missing values (new listings, first-time investors) and route them to a learned branch.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Sequence

import numpy as np

from finscore.models.manifest import FeatureSpec
from finscore.products.columns import as_matrix, category_codes, number_column
from finscore.products.propensity.catalog import CAP_CATEGORIES, RISK_TOLERANCES, SECTORS

MOMENTUM_WINDOWS = (5, 20, 60)
VOLATILITY_WINDOW = 20
VOLUME_WINDOW = 30
# Bars a stock's features need: the longest momentum window plus the day itself.
HISTORY_BARS = max(MOMENTUM_WINDOWS) + 1
VOLUME_RATIO_CAP = 20.0
DAYS_SINCE_CAP = 365.0
FREQUENCY_DAYS = 90
FREQUENCY_PER_DAYS = 30

FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(name="intraday_return", description="close_price / open_price - 1 of the day"),
    FeatureSpec(name="intraday_range", description="(high_price - low_price) / close_price of the day"),
    FeatureSpec(name="volume_ratio", description="volume / avg_volume_30d (the 30 trading days before), capped at 20"),
    *(FeatureSpec(name=f"momentum_{window}d", description=f"close / close {window} trading days before - 1")
      for window in MOMENTUM_WINDOWS),
    FeatureSpec(name="volatility_20d", description="Standard deviation of the last 20 daily log returns"),
    FeatureSpec(name="day_of_week", type="int", description="0 Monday .. 6 Sunday"),
    FeatureSpec(name="sector", type="category", description="Sector, as its index in categories",
                categories=list(SECTORS)),
    FeatureSpec(name="market_cap_category", type="category", description="Market-cap category index",
                categories=list(CAP_CATEGORIES)),
    FeatureSpec(name="days_since_last_purchase", description="Calendar days since the investor's last purchase, "
                "capped at 365; missing before a first purchase"),
    FeatureSpec(name="portfolio_diversity_score", description="1 - Herfindahl index of the sectors bought, 0-1"),
    FeatureSpec(name="risk_tolerance", type="category", description="Risk tolerance index",
                categories=list(RISK_TOLERANCES)),
    FeatureSpec(name="purchase_frequency", description="Purchases in the last 90 days, per 30 days"),
    FeatureSpec(name="sector_affinity", description="Share of the investor's purchases in this stock's sector"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
# Fields of a scoring record that come from a stock's recent bars, and from an investor's history.
MARKET_FIELDS = ("open_price", "high_price", "low_price", "close_price", "volume", "avg_volume_30d",
                 *(f"momentum_{window}d" for window in MOMENTUM_WINDOWS), "volatility_20d")
INVESTOR_FIELDS = ("days_since_last_purchase", "portfolio_diversity_score", "purchase_frequency", "sector_affinity")

_SECTOR_INDEX = {name: index for index, name in enumerate(SECTORS)}
_CAP_INDEX = {name: index for index, name in enumerate(CAP_CATEGORIES)}
_RISK_INDEX = {name: index for index, name in enumerate(RISK_TOLERANCES)}


def _lagged(values: np.ndarray, lag: int) -> np.ndarray:
    """VALUES shifted LAG days later along the last axis (NaN where there is nothing that early)."""
    out = np.full(values.shape, np.nan)
    if lag < values.shape[-1]:
        out[..., lag:] = values[..., :values.shape[-1] - lag]
    return out


def _rolling(values: np.ndarray, window: int, reducer: str) -> np.ndarray:
    """Mean or standard deviation of the WINDOW values ending at each day (NaN until there are WINDOW)."""
    out = np.full(values.shape, np.nan)
    days = values.shape[-1]
    if days < window:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(values, window, axis=-1)
    out[..., window - 1:] = windows.mean(axis=-1) if reducer == "mean" else windows.std(axis=-1)
    return out


def market_features(closes: np.ndarray, volumes: np.ndarray) -> dict[str, np.ndarray]:
    """Each stock's history-based features on each day of a (stocks, days) panel of closes and volumes."""
    closes = np.asarray(closes, dtype=np.float64)
    volumes = np.asarray(volumes, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        features = {f"momentum_{window}d": closes / _lagged(closes, window) - 1.0 for window in MOMENTUM_WINDOWS}
        returns = np.log(closes / _lagged(closes, 1))
    features["volatility_20d"] = _rolling(returns, VOLATILITY_WINDOW, "std")
    features["avg_volume_30d"] = _lagged(_rolling(volumes, VOLUME_WINDOW, "mean"), 1)
    return features


def stock_snapshot(bars: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A stock's market fields as of its latest bar (BARS: its recent bars, any order): what the stock
    store keeps and a scoring record may leave out."""
    ordered = sorted(bars, key=lambda bar: str(bar["date"]))[-(HISTORY_BARS + VOLUME_WINDOW):]
    latest = ordered[-1]
    history = market_features(np.array([[float(bar["close"]) for bar in ordered]]),
                              np.array([[float(bar["volume"]) for bar in ordered]]))
    snapshot: dict[str, Any] = {
        "as_of": str(latest["date"]),
        "day_of_week": date.fromisoformat(str(latest["date"])).weekday(),
        "open_price": float(latest["open"]), "high_price": float(latest["high"]),
        "low_price": float(latest["low"]), "close_price": float(latest["close"]), "volume": float(latest["volume"]),
        "bars": len(ordered),
    }
    for name, values in history.items():
        value = float(values[0, -1])
        snapshot[name] = None if np.isnan(value) else value
    return snapshot


def investor_summary(purchases: Sequence[Mapping[str, Any]], as_of: date) -> dict[str, Any]:
    """What the investor store keeps of an investor's PURCHASES (each with its date and the stock's
    sector) as of a day: the last purchase, the purchases of the last FREQUENCY_DAYS and the count
    per sector; the history-based features follow from it."""
    dates = [date.fromisoformat(str(purchase["date"])) for purchase in purchases]
    kept = [(day, purchase["sector"]) for day, purchase in zip(dates, purchases) if day <= as_of]
    counts: dict[str, int] = {}
    for _, sector in kept:
        counts[sector] = counts.get(sector, 0) + 1
    return {
        "as_of": as_of.isoformat(),
        "last_purchase": max(day for day, _ in kept).isoformat() if kept else None,
        "recent_purchases": sum(1 for day, _ in kept if (as_of - day).days < FREQUENCY_DAYS),
        "sector_counts": counts,
    }


def diversity(sector_counts: np.ndarray) -> np.ndarray:
    """1 - Herfindahl index of each row's purchase counts by sector (NaN for no purchases)."""
    counts = np.asarray(sector_counts, dtype=np.float64)
    totals = counts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / totals[..., None]
        return np.where(totals > 0, 1.0 - (shares ** 2).sum(axis=-1), np.nan)


def affinity(sector_counts: np.ndarray, sector_index: np.ndarray) -> np.ndarray:
    """Each row's share of purchases in the sector SECTOR_INDEX names (NaN for no purchases or no sector)."""
    counts = np.asarray(sector_counts, dtype=np.float64)
    index = np.asarray(sector_index, dtype=np.float64)
    known = ~np.isnan(index)
    taken = np.take_along_axis(counts, np.where(known, index, 0).astype(np.int64)[..., None], axis=-1)[..., 0]
    totals = counts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((totals > 0) & known, taken / totals, np.nan)


def frequency(recent_purchases: np.ndarray) -> np.ndarray:
    """Purchases in the last FREQUENCY_DAYS, per FREQUENCY_PER_DAYS."""
    return np.asarray(recent_purchases, dtype=np.float64) * FREQUENCY_PER_DAYS / FREQUENCY_DAYS


def days_since(last_purchase_ordinal: np.ndarray, as_of_ordinal: np.ndarray) -> np.ndarray:
    """Calendar days from the last purchase to the as-of day (date.toordinal() numbers), capped; NaN
    before a first purchase."""
    gap = np.asarray(as_of_ordinal, dtype=np.float64) - np.asarray(last_purchase_ordinal, dtype=np.float64)
    return np.minimum(np.maximum(gap, 0.0), DAYS_SINCE_CAP)


def sector_indexes(values: Sequence[Any]) -> np.ndarray:
    return category_codes({"sector": values}, "sector", _SECTOR_INDEX, len(values))


def scoring_matrix(columns: Mapping[str, Any]) -> np.ndarray:
    """The float32 model input of every scoring record in COLUMNS (NaN where a value is missing)."""
    count = len(next(iter(columns.values()))) if columns else 0
    close, open_, high, low = (number_column(columns, name, count) for name in
                               ("close_price", "open_price", "high_price", "low_price"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = number_column(columns, "volume", count) / number_column(columns, "avg_volume_30d", count)
        values = [
            close / open_ - 1.0,
            (high - low) / close,
            np.where(np.isinf(ratio), VOLUME_RATIO_CAP, np.minimum(ratio, VOLUME_RATIO_CAP)),
            *(number_column(columns, f"momentum_{window}d", count) for window in MOMENTUM_WINDOWS),
            number_column(columns, "volatility_20d", count),
            number_column(columns, "day_of_week", count),
            category_codes(columns, "sector", _SECTOR_INDEX, count),
            category_codes(columns, "market_cap_category", _CAP_INDEX, count),
            np.minimum(number_column(columns, "days_since_last_purchase", count), DAYS_SINCE_CAP),
            number_column(columns, "portfolio_diversity_score", count),
            category_codes(columns, "risk_tolerance", _RISK_INDEX, count),
            number_column(columns, "purchase_frequency", count),
            number_column(columns, "sector_affinity", count),
        ]
    return as_matrix(values, count)


class MarketInvestorFeatures:
    """The propensity FeatureSet."""

    specs = FEATURES
    matrix = staticmethod(scoring_matrix)


FEATURE_SET = MarketInvestorFeatures()
