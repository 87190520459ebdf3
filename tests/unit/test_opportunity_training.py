"""Opportunity data and training: a seeded world with VADER-scored reviews, the documented target, a
bounded forest whose ONNX graph serves what scikit-learn predicts, and explanations that sum exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from finscore.models.champion import LoadedModel
from finscore.products import product
from finscore.products.columns import columns_of
from finscore.products.opportunity.features import FEATURE_NAMES, FEATURE_SET
from finscore.products.opportunity.model import ForestPaths, OpportunityModel
from finscore.products.opportunity.records import OpportunityRecord
from finscore.products.scoring import Scorer
from training.opportunity import trainer
from training.opportunity.generator import LOCATIONS, generate_world, target
from training.pipeline import build_candidate


@pytest.fixture(scope="module")
def candidate():
    quick = product("opportunity").quick_training
    return build_candidate("opportunity", rows=quick["rows"], seed=quick["seed"], config=quick["config"])


def test_the_world_is_seeded_with_varied_reviews_and_type_profiles():
    world = generate_world(businesses=400, seed=3, months=12)

    assert world.locations == list(LOCATIONS) and len(world.indicators) == 12
    assert world.sentiment.min() < -0.2 and world.sentiment.max() > 0.4
    texts = {text for location in world.reviews for month in location for text in month}
    assert len(texts) > 100
    revenue = {kind: np.median([b["revenue"] for b in world.businesses if b["business_type"] == kind])
               for kind in ("pharmacy", "tailoring")}
    assert revenue["pharmacy"] > 3 * revenue["tailoring"]
    assert generate_world(businesses=400, seed=3, months=12).businesses == world.businesses


def test_the_target_is_the_documented_weighted_sum():
    best = target(np.array([1.0]), np.array([10 ** 7.5]), np.array([1e6]), np.array([5.0]), np.array([2.0]),
                  np.array([3.0]))
    worst = target(np.array([-1.0]), np.array([1e4]), np.array([0.0]), np.array([1.0]), np.array([12.0]),
                   np.array([12.0]))
    assert best[0] == pytest.approx(100.0) and worst[0] == pytest.approx(0.0)
    neutral_sentiment = target(np.array([0.0]), np.array([1e4]), np.array([0.0]), np.array([1.0]),
                               np.array([12.0]), np.array([12.0]))
    assert neutral_sentiment[0] == pytest.approx(15.0)


def test_training_rows_are_validated_with_reasons():
    rows = [{"business_type": "Cafe", "revenue": 1e6, "age": 2, "rating": 4, "sentiment_score": 0.1,
             "inflation_rate": 5, "interest_rate": 6, "opportunity_score": 55},
            {"business_type": "spaceport", "revenue": -1, "age": 2, "rating": 9, "sentiment_score": 0.1,
             "inflation_rate": 5, "interest_rate": 6, "opportunity_score": 55},
            {"business_type": "cafe", "revenue": 1e6, "age": 2, "rating": 4, "opportunity_score": 155}]

    valid, rejects = trainer.validate(rows)

    assert [row["business_type"] for row in valid] == ["cafe"]
    assert [reject.row for reject in rejects] == [1, 2]
    assert "business_type" in rejects[0].reason and "rating" in rejects[0].reason
    assert "sentiment_score: required" in rejects[1].reason and "opportunity_score" in rejects[1].reason


def test_a_location_is_written_one_way():
    record = OpportunityRecord.model_validate({"location": "  Koramangala,   Bengaluru ", "business_type": "Coffee Shop",
                                               "revenue": 1, "age": 1, "rating": 1})
    assert (record.location, record.business_type) == ("Koramangala, Bengaluru", "cafe")


def test_the_quick_model_is_small_learns_and_compares_business_type(candidate):
    metrics = candidate.manifest.metrics

    assert candidate.manifest.parity.passed
    assert metrics["r2"] > 0.5 and metrics["mse"] > 0 and metrics["mae"] > 0
    assert set(metrics["candidates"]) == {"factors", "factors+business_type"}
    chosen = [name for name, entry in metrics["candidates"].items() if entry["chosen"]]
    assert len(chosen) == 1
    assert set(metrics["feature_importance"]["permutation"]) == set(metrics["candidates"][chosen[0]]["inputs"])
    assert max(metrics["feature_importance"]["impurity"], key=metrics["feature_importance"]["impurity"].get) \
        == "sentiment_score"
    assert len(candidate.artifacts[trainer.FOREST_ARTIFACT].data) < 1_000_000


def test_served_scores_match_the_forest_and_explanations_sum_exactly(candidate):
    manifest = candidate.manifest
    model = OpportunityModel.load(manifest, lambda name: candidate.artifacts[name].data)
    scoring = Scorer(product("opportunity"), LoadedModel(manifest.version, manifest, model))
    columns = columns_of(candidate.test, (*FEATURE_NAMES,))

    outputs = scoring.predict(columns)
    matrix = FEATURE_SET.matrix(columns)

    assert np.all((outputs["opportunity_score"] >= 0) & (outputs["opportunity_score"] <= 100))
    for row in range(20):
        explained = model.explain(matrix[row])
        assert explained["baseline"] + sum(explained["contributions"].values()) == pytest.approx(explained["prediction"])
        assert np.clip(explained["prediction"], 0, 100) == pytest.approx(outputs["opportunity_score"][row], abs=0.01)
    paths = ForestPaths.from_document(json.loads(candidate.artifacts[trainer.EXPLAINER_ARTIFACT].data))
    assert len(paths.trees) == manifest.hyperparameters["n_estimators"]


def test_indicators_are_stored_as_numbers_dynamodb_takes():
    from finscore.products.opportunity.records import Indicators

    item = Indicators(effective_date="2026-12-01", inflation_rate=5e-324, interest_rate=6.123456,
                      market_index=24350.456).item()

    assert item == {"effective_date": "2026-12-01", "inflation_rate": 0.0, "interest_rate": 6.1235,
                    "market_index": 24350.46}
