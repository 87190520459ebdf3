"""The demand feature module: the one place weekly sales become model inputs, for training and serving.

A row is a demand series (pincode x product x channel) as of a week t; the models answer for week
t + 1 (the next period). Every feature uses weeks up to and including t only:

- lag_1 .. lag_4: the series' sales in weeks t, t-1, t-2, t-3;
- mean_4, mean_13: its mean weekly sales over the last 4 and 13 weeks; trend = (mean_4 + 1) /
  (mean_13 + 1); seasonal_lag: its sales in week t + 1 - 52 (the same week a year before the one
  predicted; missing in a series' first year);
- the pincode's mix over the last 13 weeks: its total weekly sales (pincode_mean_13), the share of
  each product, the online share, growth = (last 13 weeks + 1) / (the 13 before + 1), and the last
  4 weeks' mean of each product in the row's channel (what the top-product model compares);
- customer mix: mean age and mean monthly income of the pincode's customers over the last 13 weeks;
- calendar of the week predicted: week of year (as sine and cosine), Diwali festival intensity (and
  this week's), Akshaya Tritiya, tax season;
- product, channel and region (the pincode's demand-profile cluster) as category indexes.

Training computes them over a whole (pincodes, series, weeks) panel at once; the stores compute them
over one pincode's recent weeks; both call `history_features`. numpy only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Mapping

import numpy as np

from finscore.models.manifest import FeatureSpec
from finscore.products.columns import as_matrix, category_codes, number_column
from finscore.products.demand.catalog import (
    CHANNELS,
    PRODUCTS,
    festival_intensity,
    spring_festival,
    tax_season,
)

LAGS = (1, 2, 3, 4)
SHORT_WINDOW, LONG_WINDOW = 4, 13
SEASON = 52
# Weeks of history the features of one week need: a season back from the week predicted, and the
# 13 weeks before the last 13 for growth.
HISTORY_WEEKS = SEASON + 1
# At most this many regions (the clustering chooses k up to it).
MAX_REGIONS = 8

_PRODUCT_INDEX = {name: index for index, name in enumerate(PRODUCTS)}
_CHANNEL_INDEX = {name: index for index, name in enumerate(CHANNELS)}

# Fields of a scoring record that come from the pincode's stored weekly sales.
HISTORY_FIELDS = (
    *(f"lag_{lag}" for lag in LAGS), "mean_4", "mean_13", "trend", "seasonal_lag",
    "pincode_mean_13", *(f"share_{product}" for product in PRODUCTS), "online_share", "growth",
    *(f"channel_{product}_mean_4" for product in PRODUCTS), "mean_age", "mean_income",
)
FEATURES: tuple[FeatureSpec, ...] = (
    *(FeatureSpec(name=f"lag_{lag}", description=f"Sales of the series in week t{'' if lag == 1 else f'-{lag - 1}'}")
      for lag in LAGS),
    FeatureSpec(name="mean_4", description="Mean weekly sales of the series over the last 4 weeks"),
    FeatureSpec(name="mean_13", description="Mean weekly sales of the series over the last 13 weeks"),
    FeatureSpec(name="trend", description="(mean_4 + 1) / (mean_13 + 1)"),
    FeatureSpec(name="seasonal_lag", description="Sales of the series 52 weeks before the week predicted"),
    FeatureSpec(name="pincode_mean_13", description="Mean weekly sales of the pincode (every series), 13 weeks"),
    *(FeatureSpec(name=f"share_{product}", description=f"Share of {product} in the pincode's sales, 13 weeks")
      for product in PRODUCTS),
    FeatureSpec(name="online_share", description="Share of online sales in the pincode, 13 weeks"),
    FeatureSpec(name="growth", description="(pincode sales of the last 13 weeks + 1) / (the 13 before + 1)"),
    *(FeatureSpec(name=f"channel_{product}_mean_4", description=f"Mean weekly {product} sales in the row's "
                  "channel at the pincode, 4 weeks") for product in PRODUCTS),
    FeatureSpec(name="mean_age", description="Mean age of the pincode's customers, 13 weeks"),
    FeatureSpec(name="mean_income", description="Mean monthly income (INR) of the pincode's customers, 13 weeks"),
    FeatureSpec(name="week_sin", description="sin(2 pi week-of-year / 52) of the week predicted"),
    FeatureSpec(name="week_cos", description="cos(2 pi week-of-year / 52) of the week predicted"),
    FeatureSpec(name="festival_next", description="Diwali season intensity of the week predicted, 0-1"),
    FeatureSpec(name="festival_now", description="Diwali season intensity of week t, 0-1"),
    FeatureSpec(name="spring_festival_next", description="1 when the week predicted holds Akshaya Tritiya"),
    FeatureSpec(name="tax_season_next", description="1 when the week predicted is in January-March"),
    FeatureSpec(name="product", type="category", description="Product index", categories=list(PRODUCTS)),
    FeatureSpec(name="channel", type="category", description="Channel index", categories=list(CHANNELS)),
    FeatureSpec(name="region", type="int", description="The pincode's region (demand-profile cluster) index"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
REGION_COLUMN = FEATURE_NAMES.index("region")
HISTORY_COLUMNS = tuple(FEATURE_NAMES.index(name) for name in HISTORY_FIELDS)


def _lagged(values: np.ndarray, lag: int) -> np.ndarray:
    """VALUES shifted LAG weeks later along the last axis (NaN where there is nothing that early)."""
    out = np.full(values.shape, np.nan)
    if lag < values.shape[-1]:
        out[..., lag:] = values[..., :values.shape[-1] - lag] if lag else values
    return out


def _window_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of the WINDOW weeks ending at each week, weeks before the first counted as 0 (a series
    starts at its first week: nothing sold before it)."""
    total = np.cumsum(values, axis=-1)
    return total - np.nan_to_num(_lagged(total, window), nan=0.0)


def history_features(counts: np.ndarray, ages: np.ndarray, incomes: np.ndarray) -> dict[str, np.ndarray]:
    """Every history field of each series on each week of a panel.

    COUNTS: (pincodes, len(SERIES), weeks) sales; AGES and INCOMES: (pincodes, weeks) sums of the
    customers' ages and incomes. Returns arrays of shape (pincodes, len(SERIES), weeks) by field name,
    each the value as of that week (the row that predicts the week after it).
    """
    counts = np.asarray(counts, dtype=np.float64)
    pincodes, series, weeks = counts.shape
    out: dict[str, np.ndarray] = {}
    for lag in LAGS:
        out[f"lag_{lag}"] = _lagged(counts, lag - 1)
    out["mean_4"] = _window_sum(counts, SHORT_WINDOW) / SHORT_WINDOW
    out["mean_13"] = _window_sum(counts, LONG_WINDOW) / LONG_WINDOW
    out["trend"] = (out["mean_4"] + 1.0) / (out["mean_13"] + 1.0)
    out["seasonal_lag"] = _lagged(counts, SEASON - 1)

    total = counts.sum(axis=1)  # (pincodes, weeks)
    total_13 = _window_sum(total, LONG_WINDOW)
    with np.errstate(invalid="ignore", divide="ignore"):
        by_product = counts.reshape(pincodes, len(PRODUCTS), len(CHANNELS), weeks).sum(axis=2)
        shares = _window_sum(by_product, LONG_WINDOW) / total_13[:, None, :]
        online = counts.reshape(pincodes, len(PRODUCTS), len(CHANNELS), weeks)[:, :, 0, :].sum(axis=1)
        online_share = _window_sum(online, LONG_WINDOW) / total_13
        mean_age = _window_sum(np.asarray(ages, dtype=np.float64), LONG_WINDOW) / total_13
        mean_income = _window_sum(np.asarray(incomes, dtype=np.float64), LONG_WINDOW) / total_13
    before = np.nan_to_num(_lagged(total_13, LONG_WINDOW), nan=0.0)
    pincode_level = {
        "pincode_mean_13": total_13 / LONG_WINDOW,
        **{f"share_{product}": shares[:, index] for index, product in enumerate(PRODUCTS)},
        "online_share": online_share,
        "growth": (total_13 + 1.0) / (before + 1.0),
        "mean_age": mean_age,
        "mean_income": mean_income,
    }
    for name, values in pincode_level.items():
        out[name] = np.broadcast_to(values[:, None, :], (pincodes, series, weeks)).copy()
    mean_4 = out["mean_4"].reshape(pincodes, len(PRODUCTS), len(CHANNELS), weeks)
    for index, product in enumerate(PRODUCTS):
        # The row's channel: series (product p, channel c) sits at p * len(CHANNELS) + c.
        out[f"channel_{product}_mean_4"] = np.repeat(mean_4[:, index:index + 1, :, :], len(PRODUCTS), axis=1) \
            .reshape(pincodes, series, weeks)
    return out


def calendar(as_of: date) -> dict[str, float]:
    """The calendar features of the week after the week starting AS_OF (a Monday)."""
    target = as_of + timedelta(days=7)
    week = target.isocalendar()[1]
    angle = 2.0 * np.pi * min(week, SEASON) / SEASON
    return {"week_sin": float(np.sin(angle)), "week_cos": float(np.cos(angle)),
            "festival_next": festival_intensity(target), "festival_now": festival_intensity(as_of),
            "spring_festival_next": spring_festival(target), "tax_season_next": tax_season(target)}


CALENDAR_FIELDS = tuple(calendar(date(2024, 1, 1)))


def _calendar_columns(columns: Mapping[str, Any], count: int) -> dict[str, np.ndarray]:
    """Calendar features from each row's as_of week (ISO date); a row may carry them computed already."""
    if all(name in columns for name in CALENDAR_FIELDS):
        return {name: number_column(columns, name, count) for name in CALENDAR_FIELDS}
    out = {name: np.full(count, np.nan) for name in CALENDAR_FIELDS}
    weeks = columns.get("as_of")
    if weeks is None:
        return out
    cache: dict[str, dict[str, float]] = {}
    for row, value in enumerate(weeks):
        if not isinstance(value, str):
            continue
        if value not in cache:
            try:
                cache[value] = calendar(date.fromisoformat(value))
            except ValueError:
                cache[value] = {}
        for name, number in cache[value].items():
            out[name][row] = number
    return out


def scoring_matrix(columns: Mapping[str, Any]) -> np.ndarray:
    """The float32 model input of every row of COLUMNS (NaN where a value is missing)."""
    count = len(next(iter(columns.values()))) if columns else 0
    dates = _calendar_columns(columns, count)
    values = [
        *(number_column(columns, name, count) for name in HISTORY_FIELDS),
        *(dates[name] for name in CALENDAR_FIELDS),
        category_codes(columns, "product", _PRODUCT_INDEX, count),
        category_codes(columns, "channel", _CHANNEL_INDEX, count),
        number_column(columns, "region", count),
    ]
    return as_matrix(values, count)


class WeeklySalesFeatures:
    """The demand FeatureSet."""

    specs = FEATURES
    matrix = staticmethod(scoring_matrix)


FEATURE_SET = WeeklySalesFeatures()
