"""Demand training on generated data: a time split, regions, three models that beat a seasonal naive
baseline, and ONNX that serves what the native models predict."""

from __future__ import annotations

import numpy as np

from finscore.products.demand.catalog import PRODUCTS
from finscore.products.demand.model import DemandModel
from finscore.products.scoring import Scorer
from finscore.models.champion import LoadedModel
from finscore.products import product
from finscore.products.columns import columns_of
from training.demand import trainer
from training.demand.generator import generate_panel, panel_of_sales, sale_records


def test_the_generated_data_has_festival_peaks_and_city_mixes():
    panel = generate_panel(pincodes=60, weeks=60, seed=5)
    weekly = panel.counts.sum(axis=(0, 1))
    festival = [index for index, week in enumerate(panel.weeks) if str(week) in ("2026-10-26", "2026-11-02")]
    assert weekly[festival].mean() > 1.2 * np.median(weekly)
    metros = [p for p, place in enumerate(panel.pincodes) if place["city"] in ("Mumbai", "Bengaluru")]
    small = [p for p, place in enumerate(panel.pincodes) if place["city"] in ("Patna", "Varanasi", "Kanpur")]
    online_share = lambda rows: panel.counts[rows][:, 0::2].sum() / panel.counts[rows].sum()  # noqa: E731
    assert online_share(metros) > online_share(small)
    assert np.array_equal(generate_panel(pincodes=60, weeks=60, seed=5).counts, panel.counts)


def test_users_sales_become_the_same_weekly_panel():
    panel = generate_panel(pincodes=6, weeks=30, seed=2)
    rebuilt = panel_of_sales(sale_records(panel, seed=2))

    assert [place["pincode"] for place in rebuilt.pincodes] == sorted(place["pincode"] for place in panel.pincodes)
    order = [[place["pincode"] for place in panel.pincodes].index(place["pincode"]) for place in rebuilt.pincodes]
    first = rebuilt.weeks.index(rebuilt.weeks[0])
    offset = panel.weeks.index(rebuilt.weeks[first])
    np.testing.assert_array_equal(rebuilt.counts, panel.counts[order][..., offset:offset + len(rebuilt.weeks)])


def test_the_split_is_by_time():
    rows = trainer.generate(12, 3)
    train, validation, test = trainer.split(rows, 3)

    assert max(r["as_of"] for r in train) < min(r["as_of"] for r in validation)
    assert max(r["as_of"] for r in validation) < min(r["as_of"] for r in test)


def test_the_model_beats_the_seasonal_baseline_and_serves_what_it_measured(candidates):
    candidate = candidates("demand")
    metrics = candidate.manifest.metrics

    # Given the held-out weeks, the model's MAE is below the naive seasonal forecast's
    assert metrics["mae"] < metrics["baseline_mae"]
    assert metrics["r2"] > metrics["baseline_r2"]
    assert metrics["rise"]["accuracy"] > metrics["baseline_rise"]["accuracy"]
    assert set(metrics["top_product"]["f1"]) == set(PRODUCTS)
    assert 0 < metrics["interval_coverage"] <= 1
    assert candidate.manifest.parity.passed
    regions = candidate.manifest.extra["regions"]
    assert sorted(p for region in regions for p in region["pincodes"]) == sorted(candidate.manifest.extra["pincodes"])

    # When the served model answers the held-out rows, its demand is the measured one
    manifest = candidate.manifest
    model = DemandModel.load(manifest, lambda name: candidate.artifacts[name].data)
    outputs = Scorer(product("demand"), LoadedModel(manifest.version, manifest, model)).predict(
        columns_of(candidate.test))
    served_mae = np.mean(np.abs(outputs["predicted_demand"] - np.array([r["demand_next"] for r in candidate.test])))
    assert abs(served_mae - metrics["mae"]) < 0.01
    assert set(outputs["basis"]) == {"pincode"}
    assert ((outputs["confidence"] >= 0) & (outputs["confidence"] <= 1)).all()
