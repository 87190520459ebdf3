"""propensity training: rows, the time split, the search, held-out metrics, parity, users' own files."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from finscore.aws import client
from finscore.products.propensity.features import FEATURE_NAMES
from training.data import load_training_data, row_rejects
from training.pipeline import load_product
from training.propensity import trainer
from training.propensity.generator import generate_market


@pytest.fixture(scope="module")
def market():
    return generate_market(users=60, stocks=25, days=160, seed=3)


def test_every_purchase_is_a_positive_row_of_the_day_before(market):
    rows = trainer.training_rows(market, seed=3)
    positives = {(row["user_id"], row["stock_id"], row["day"]) for row in rows if row["purchased"] == 1}
    days = sorted({bar["date"] for bar in market.bars})
    previous = {day: days[index - 1] for index, day in enumerate(days) if index}
    bought = {(p["user_id"], p["stock_id"], previous[p["date"]]) for p in market.purchases}
    assert positives == bought
    negatives = [row for row in rows if row["purchased"] == 0]
    assert 3 * len(positives) < len(negatives) < 8 * len(positives)
    assert all((row["user_id"], row["stock_id"], row["day"]) not in bought for row in negatives)


def test_the_split_is_by_time(market):
    rows = trainer.training_rows(market, seed=3)
    train, validation, test = trainer.split(rows, seed=1)
    assert max(r["day"] for r in train) < min(r["day"] for r in validation)
    assert max(r["day"] for r in validation) < min(r["day"] for r in test)
    assert len(train) + len(validation) + len(test) == len(rows)
    days = sorted({r["day"] for r in rows})
    assert len({r["day"] for r in train}) == round(len(days) * 0.7)


def test_bad_rows_are_rejected_with_reasons():
    valid, rejects = trainer.validate([{"purchased": 2, "day": "2026-13-01", "close_price": None}])
    assert valid == [] and "purchased" in rejects[0].reason and "day" in rejects[0].reason


def test_the_candidate_is_held_out_by_time_searched_and_exported_with_parity(candidates):
    candidate = candidates("propensity")
    manifest = candidate.manifest
    assert manifest.parity.passed and manifest.parity.max_abs_diff <= trainer.PROBABILITY_TOLERANCE
    assert manifest.feature_names == list(FEATURE_NAMES)
    for metric in ("roc_auc", "pr_auc", "f1", "precision", "recall"):
        assert 0.0 <= manifest.metrics[metric] <= 1.0
    assert manifest.metrics["roc_auc"] > 0.6
    assert min(row["day"] for row in candidate.test) == manifest.metrics["test_days"].split("..")[0]
    assert {"max_depth", "learning_rate", "n_estimators", "chosen_by"} <= set(manifest.hyperparameters)
    trials = manifest.extra["search"]
    assert len(trials) == 2 and all(0 < trial["validation_roc_auc"] <= 1 for trial in trials)
    assert 0 < manifest.thresholds["decision_threshold"] < 1


def test_the_gate_judges_the_served_model_like_the_held_out_metric(candidates):
    candidate = candidates("propensity")
    product = load_product("propensity")
    outputs = product.serving_outputs(candidate.manifest, lambda name: candidate.artifacts[name].data, candidate.test)
    metrics = product.gate_metrics(outputs, candidate.test)
    assert metrics["roc_auc"] == pytest.approx(candidate.manifest.metrics["roc_auc"], abs=1e-6)


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_users_files_become_rows_and_bad_rows_point_at_their_file(aws, market):
    s3 = client("s3")
    bucket = aws["DATA_BUCKET"]
    stocks = [dict(stock) for stock in market.stocks]
    stocks[1]["sector"] = "astrology"
    bars = [dict(bar) for bar in market.bars]
    bars[3]["high"] = 0.5
    s3.put_object(Bucket=bucket, Key="training/propensity/stocks.csv", Body=_csv(stocks))
    s3.put_object(Bucket=bucket, Key="training/propensity/bars.csv", Body=_csv(bars))
    s3.put_object(Bucket=bucket, Key="training/propensity/investors.csv", Body=_csv(
        [{"user_id": user["user_id"], "risk_tolerance": user["risk_tolerance"]} for user in market.users]))
    s3.put_object(Bucket=bucket, Key="training/propensity/purchases.csv", Body=_csv(
        [{"user_id": p["user_id"], "stock_id": p["stock_id"], "date": p["date"]} for p in market.purchases]))

    data = load_training_data(bucket, "propensity", trainer.assemble)
    valid, product_rejects = trainer.validate(data.records)
    rejects = row_rejects(data, product_rejects)

    assert len(valid) > 500 and np.mean([row["purchased"] for row in valid]) > 0.1
    assert [(r.source, r.row) for r in rejects] == [("training/propensity/bars.csv", 4),
                                                    ("training/propensity/stocks.csv", 2)]
    assert "high" in rejects[0].reason and "astrology" in rejects[1].reason
    assert {row["stock_id"] for row in valid}.isdisjoint({stocks[1]["stock_id"]})
