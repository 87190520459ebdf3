"""The propensity feature module: windows over bars, investor history, and one definition for training and serving."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
import pytest

from finscore.products.columns import columns_of
from finscore.products.propensity.catalog import SECTORS
from finscore.products.propensity.features import (
    FEATURE_NAMES,
    HISTORY_BARS,
    affinity,
    days_since,
    diversity,
    frequency,
    investor_summary,
    market_features,
    scoring_matrix,
    sector_indexes,
    stock_snapshot,
)
from finscore.products.propensity.records import ScoreRecord
from training.propensity import trainer
from training.propensity.generator import generate_market


def test_windows_use_only_the_past_and_are_missing_until_there_is_enough():
    closes = np.array([[100.0 * 1.01 ** day for day in range(70)]])
    volumes = np.array([[1_000.0 + day for day in range(70)]])

    features = market_features(closes, volumes)

    assert np.isnan(features["momentum_5d"][0, 4]) and features["momentum_5d"][0, 5] == pytest.approx(1.01 ** 5 - 1)
    assert np.isnan(features["momentum_60d"][0, 59]) and features["momentum_60d"][0, 60] == pytest.approx(1.01 ** 60 - 1)
    # Constant growth: every log return equal, no volatility.
    assert features["volatility_20d"][0, 20] == pytest.approx(0.0, abs=1e-12) and np.isnan(features["volatility_20d"][0, 19])
    # The 30 days before day 40 are days 10..39, whose mean volume is 1,024.5; day 40 itself is not in it.
    assert features["avg_volume_30d"][0, 40] == pytest.approx(1_024.5) and np.isnan(features["avg_volume_30d"][0, 29])


def test_a_change_after_day_t_never_moves_day_t():
    rng = np.random.default_rng(4)
    closes = 100 * np.cumprod(1 + rng.normal(0, 0.02, (3, 90)), axis=1)
    volumes = rng.integers(1_000, 5_000, (3, 90)).astype(float)
    shocked_closes, shocked_volumes = closes.copy(), volumes.copy()
    shocked_closes[:, 71:] *= 3
    shocked_volumes[:, 71:] *= 10

    before, after = market_features(closes, volumes), market_features(shocked_closes, shocked_volumes)

    for name in before:
        np.testing.assert_array_equal(before[name][:, :71], after[name][:, :71])


def test_a_stocks_snapshot_is_the_panels_last_day():
    market = generate_market(users=5, stocks=3, days=120, seed=2)
    bars = [bar for bar in market.bars if bar["stock_id"] == "STK0002"]
    panel = market_features(np.array([[bar["close"] for bar in bars]]), np.array([[bar["volume"] for bar in bars]]))

    snapshot = stock_snapshot(list(reversed(bars))[:HISTORY_BARS + 30])

    assert snapshot["as_of"] == bars[-1]["date"] and snapshot["close_price"] == bars[-1]["close"]
    assert snapshot["day_of_week"] == date.fromisoformat(bars[-1]["date"]).weekday()
    for name, values in panel.items():
        assert snapshot[name] == pytest.approx(values[0, -1])


def test_investor_history_features():
    counts = np.array([[2, 0, 2], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(diversity(counts), [0.5, 0.0, np.nan])
    np.testing.assert_allclose(affinity(counts, np.array([0.0, 1.0, 0.0])), [0.5, 0.0, np.nan])
    np.testing.assert_allclose(frequency(np.array([9.0, 0.0])), [3.0, 0.0])
    np.testing.assert_allclose(days_since(np.array([738_000.0, np.nan, 700_000.0]), np.array([738_010.0] * 3)),
                               [10.0, np.nan, 365.0])


def test_the_stored_summary_gives_the_features_training_computed():
    # Given generated training rows, and each investor's purchases with the stock's sector
    market = generate_market(users=40, stocks=20, days=150, seed=5)
    rows = trainer.training_rows(market, seed=5)
    sector = {stock["stock_id"]: stock["sector"] for stock in market.stocks}
    purchases = defaultdict(list)
    for purchase in market.purchases:
        purchases[purchase["user_id"]].append({**purchase, "sector": sector[purchase["stock_id"]]})
    checked = 0
    for row in rows[::97]:
        # When the serving side summarises the same history as of the row's day
        summary = investor_summary(purchases[row["user_id"]], date.fromisoformat(row["day"]))
        counts = np.array([[summary["sector_counts"].get(name, 0) for name in SECTORS]], dtype=float)
        last = date.fromisoformat(summary["last_purchase"]).toordinal() if summary["last_purchase"] else np.nan
        served = {
            "days_since_last_purchase": days_since(np.array([last]), np.array([date.fromisoformat(row["day"]).toordinal()]))[0],
            "portfolio_diversity_score": diversity(counts)[0],
            "purchase_frequency": frequency(np.array([summary["recent_purchases"]]))[0],
            "sector_affinity": affinity(counts, sector_indexes([row["sector"]]))[0],
        }
        # Then every history feature is the one training used
        for name, value in served.items():
            expected = row[name]
            assert (expected is None and np.isnan(value)) or value == pytest.approx(expected), (name, row)
        checked += 1
    assert checked > 20


def test_the_matrix_maps_categories_and_keeps_missing_values_missing():
    record = ScoreRecord.model_validate({
        "user_id": "U1", "stock_id": "S1", "close_price": 110, "open_price": 100, "high_price": 112, "low_price": 99,
        "volume": 10_000_000, "avg_volume_30d": 100, "sector": "Information Technology",
        "market_cap_category": "Large Cap", "risk_tolerance": "Aggressive", "day_of_week": "Friday",
    })
    row = dict(zip(FEATURE_NAMES, scoring_matrix(columns_of([record.model_dump()])).astype(float)[0]))

    assert row["intraday_return"] == pytest.approx(0.1) and row["intraday_range"] == pytest.approx(13 / 110)
    assert row["volume_ratio"] == 20.0  # capped
    assert (row["sector"], row["market_cap_category"], row["risk_tolerance"], row["day_of_week"]) == (0, 2, 2, 4)
    assert np.isnan(row["momentum_20d"]) and np.isnan(row["sector_affinity"])


@pytest.mark.parametrize(("field", "value"), [("sector", "astrology"), ("market_cap_category", "huge"),
                                              ("risk_tolerance", "reckless"), ("day_of_week", "Someday")])
def test_unknown_spellings_are_refused(field, value):
    with pytest.raises(ValueError):
        ScoreRecord.model_validate({"user_id": "U1", "stock_id": "S1", field: value})
