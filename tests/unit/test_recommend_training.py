"""recommend training: the generator, record validation, the parity rule and what the manifest records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from finscore.products.recommend.catalog import CATEGORIES, LABEL_COLUMNS, PRODUCTS_BY_CATEGORY, label_column
from finscore.products.recommend.features import FEATURE_NAMES, feature_matrix
from training.recommend import trainer
from training.recommend.generator import generate_customers


def test_the_same_seed_generates_the_same_customers():
    assert generate_customers(300, seed=5) == generate_customers(300, seed=5)
    assert generate_customers(300, seed=5) != generate_customers(300, seed=6)


def test_generated_customers_are_valid_requests_with_catalogue_labels():
    records = generate_customers(1_000, seed=1)
    valid, rejects = trainer.validate(records)
    assert rejects == [] and len(valid) == 1_000
    for category in CATEGORIES:
        labels = {record[label_column(category)] for record in records}
        assert labels == set(PRODUCTS_BY_CATEGORY[category])  # every product occurs


def test_labels_are_not_features():
    # Given generated customers, When their labels are scrambled, Then the model input is unchanged
    records = generate_customers(200, seed=2)
    scrambled = [{**record, **{column: "x" for column in LABEL_COLUMNS}} for record in records]
    np.testing.assert_array_equal(feature_matrix(records), feature_matrix(scrambled))
    assert not set(FEATURE_NAMES) & set(LABEL_COLUMNS)


def test_validation_rejects_bad_records_with_reasons():
    good = generate_customers(3, seed=4)
    records = [
        good[0],
        {**good[1], "age": 12, "credit_score": "high"},
        {**good[2], "loan_product": "gold_card"},
    ]
    valid, rejects = trainer.validate(records)
    assert len(valid) == 1
    assert [reject.row for reject in rejects] == [1, 2]
    assert "age" in rejects[0].reason and "credit_score" in rejects[0].reason
    assert "loan_product" in rejects[1].reason


@pytest.mark.parametrize(
    ("segment_agreement", "trees", "passed"),
    [
        (1.0, {"account": (0.0, 1.0)}, True),
        (0.999, {"account": (1e-5, 1.0)}, True),  # both limits are inclusive
        (0.998, {"account": (0.0, 1.0)}, False),  # K-Means below 99.9% agreement
        (1.0, {"account": (2e-5, 1.0)}, False),  # a probability off by more than 1e-5
        (1.0, {"account": (0.0, 1.0), "loan": (0.0, 0.9995)}, False),  # one tree label differs
    ],
)
def test_parity_rule(segment_agreement, trees, passed):
    result = trainer.judge_parity(2_000, segment_agreement, trees)
    assert result.passed is passed
    assert result.max_abs_diff == max(diff for diff, _ in trees.values())
    assert "1e-05" in result.rule and "0.999" in result.rule
    assert set(result.per_model) == {"segmenter", *trees}


def test_segment_names_are_distinct_even_for_alike_centroids():
    profile = {"age": 30.0, "income": 50_000.0, "credit_score": 700.0, "savings_balance": 5_000.0, "loan_amount": 0.0,
               "digital_engagement": 8.0, "loan_behavior": 1.0}
    employment = {"employed": 1.0, "self_employed": 0.0, "unemployed": 0.0, "student": 0.0, "retired": 0.0}
    segments = [{"cluster": i, "profile": profile, "employment_mix": employment} for i in range(3)]
    names = trainer.name_segments(segments)
    assert names[0] == "Young Digital Professionals"
    assert len(set(names)) == 3


def test_the_candidate_manifest_is_the_serving_contract(recommend_candidate):
    manifest = recommend_candidate.manifest
    assert manifest.feature_names == list(FEATURE_NAMES)
    assert manifest.primary_metric == "mean_served_accuracy"
    assert 4 <= manifest.extra["segmenter"]["clusters"] <= 6
    for category in CATEGORIES:
        for metric in ("served_accuracy", "served_precision", "coverage", "raw_accuracy", "macro_precision",
                       "macro_recall"):
            assert 0 <= manifest.metrics[f"{category}_{metric}"] <= 1
        spec = manifest.extra["categories"][category]
        assert spec["artifact"] in recommend_candidate.artifacts
        assert sum(spec["class_prior"]) == pytest.approx(1.0)
        # The floor is published where the API and GET /v1/models read it.
        assert spec["confidence_floor"] == manifest.thresholds["confidence_floor"][category]
        assert 0 <= spec["confidence_floor"] < 1
    assert -1 <= manifest.metrics["silhouette"] <= 1
    assert manifest.metrics["mean_raw_accuracy"] > 0.7  # labels follow the profile; noise caps it below 1
    # Served, a held product or one below the floor is a miss: never better than the raw figure.
    assert manifest.metrics["mean_served_accuracy"] <= manifest.metrics["mean_raw_accuracy"]
    assert manifest.metrics["mean_served_precision"] >= manifest.metrics["mean_served_accuracy"]
    assert manifest.parity.passed and manifest.parity.rows == manifest.training_data.split["test"]
    assert manifest.training_data.split == {"train": 1_400, "validation": 300, "test": 300, "rejected": 0}
    assert {"numpy", "scikit-learn", "skl2onnx", "onnxruntime", "python"} <= set(manifest.library_versions)
    roles = {name: artifact.role for name, artifact in recommend_candidate.artifacts.items()}
    assert roles["segmenter.onnx"] == "serving" and roles["native.json"] == "native" and roles["baseline.json"] == "baseline"
    baseline = json.loads(recommend_candidate.artifacts["baseline.json"].data)
    assert [feature["name"] for feature in baseline["features"]] == list(FEATURE_NAMES)
    assert all(sum(feature["shares"]) == pytest.approx(1.0) for feature in baseline["features"])


def test_the_floor_is_the_lowest_confidence_reaching_the_target_precision():
    # Ten recommendations at each of five confidences; the right ones thin out as confidence falls.
    confidence = np.repeat([0.9, 0.7, 0.5, 0.3, 0.1], 10)
    right = np.concatenate([np.ones(10), np.ones(10), np.r_[np.ones(7), np.zeros(3)], np.r_[np.ones(2), np.zeros(8)],
                            np.zeros(10)]).astype(bool)
    floor = trainer.confidence_floor(confidence, right, target=0.9, min_support=10)
    # At 0.5 the kept 30 are 27 right (0.9); at 0.3 the kept 40 are 29 right (0.725).
    assert floor == {"floor": 0.5, "validation_precision": pytest.approx(0.9), "validation_coverage": 0.6}


def test_an_unreachable_target_takes_the_most_precise_floor_and_nothing_to_judge_keeps_all():
    confidence = np.array([0.8, 0.8, 0.6, 0.6, 0.4, np.nan])
    right = np.array([True, False, True, True, False, False])
    floor = trainer.confidence_floor(confidence, right, target=0.99, min_support=2)
    assert floor["floor"] == 0.6 and floor["validation_precision"] == pytest.approx(0.75)
    assert trainer.confidence_floor(confidence, right, target=0.9, min_support=50)["floor"] == 0.0
