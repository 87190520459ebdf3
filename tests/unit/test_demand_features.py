"""The demand feature module: past-only history features, one definition for training and serving."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from finscore.products.columns import columns_of
from finscore.products.demand.catalog import SERIES, festival_intensity, week_start
from finscore.products.demand.features import (
    CALENDAR_FIELDS,
    FEATURE_NAMES,
    FEATURE_SET,
    HISTORY_FIELDS,
    HISTORY_WEEKS,
    calendar,
    history_features,
)
from finscore.products.demand.repository import SERIES_ATTRIBUTES
from finscore.products.demand.stores import complete, pincode_history
from training.demand.generator import generate_panel


@pytest.fixture(scope="module")
def panel():
    return generate_panel(pincodes=12, weeks=80, seed=3)


def test_features_of_a_week_do_not_change_when_later_weeks_do(panel):
    t = 60
    before = history_features(panel.counts, panel.ages, panel.incomes)
    counts = panel.counts.copy()
    counts[..., t + 1:] = 999
    after = history_features(counts, panel.ages, panel.incomes)

    for name in HISTORY_FIELDS:
        np.testing.assert_array_equal(before[name][..., :t + 1], after[name][..., :t + 1], err_msg=name)


def test_lags_windows_and_seasonal_lag_are_what_they_say(panel):
    history = history_features(panel.counts, panel.ages, panel.incomes)
    counts = panel.counts.astype(float)
    p, s, t = 4, 2, 70

    assert history["lag_1"][p, s, t] == counts[p, s, t]
    assert history["lag_4"][p, s, t] == counts[p, s, t - 3]
    assert history["mean_13"][p, s, t] == pytest.approx(counts[p, s, t - 12:t + 1].mean())
    # The same week a year before the one predicted (t + 1).
    assert history["seasonal_lag"][p, s, t] == counts[p, s, t + 1 - 52]
    shares = [history[f"share_{product}"][p, s, t] for product in ("loan", "credit_card", "insurance")]
    assert sum(shares) == pytest.approx(1.0)


def test_the_stores_compute_the_same_features_as_training_from_stored_weeks(panel):
    history = history_features(panel.counts, panel.ages, panel.incomes)
    p, last = 5, len(panel.weeks) - 1
    items = [{"week": panel.weeks[w].isoformat(), "age_sum": panel.ages[p, w], "income_sum": panel.incomes[p, w],
              **{attribute: int(panel.counts[p, s, w]) for s, attribute in enumerate(SERIES_ATTRIBUTES)}}
             for w in range(last - HISTORY_WEEKS + 1, last + 1)]

    as_of, values = pincode_history(items)

    assert as_of == panel.weeks[last].isoformat()
    expected = np.array([[history[name][p, s, last] for name in HISTORY_FIELDS] for s in range(len(SERIES))])
    np.testing.assert_allclose(values, expected, rtol=1e-9)


def test_the_matrix_follows_the_feature_order_and_leaves_the_unknown_missing(panel):
    columns = columns_of([{"pincode": "400001", "product": "insurance", "channel": "offline"}])
    columns = complete(columns, 1, {"400001": None})

    matrix = FEATURE_SET.matrix(columns)

    assert matrix.shape == (1, len(FEATURE_NAMES)) and matrix.dtype == np.float32
    assert np.isnan(matrix[0, FEATURE_NAMES.index("lag_1")])
    assert matrix[0, FEATURE_NAMES.index("product")] == 2 and matrix[0, FEATURE_NAMES.index("channel")] == 1
    assert [spec.name for spec in FEATURE_SET.specs] == list(FEATURE_NAMES)
    assert set(CALENDAR_FIELDS) < set(FEATURE_NAMES)


def test_the_festival_season_peaks_before_diwali():
    diwali_week = week_start(date(2026, 11, 8))

    assert festival_intensity(diwali_week) == 1.0
    assert 0 < festival_intensity(date(2026, 10, 19)) < 1
    assert festival_intensity(date(2026, 7, 6)) == 0.0
    # Features are for the week after the as-of week.
    assert calendar(week_start(date(2026, 11, 1)))["festival_next"] == 1.0
