"""Batch files score with a version's native booster only where it agrees with the ONNX graph by the
version's parity rule; any doubt (sha256, library, parity, no sample) leaves them to ONNX."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from finscore.aws import client
from finscore.batch import scoring
from finscore.models.manifest import ParityResult
from finscore.models.native import (
    PARITY_SAMPLE_ARTIFACT,
    NativeProbability,
    NativeRefused,
    batch_model,
    native_twin,
    parity_issue,
)
from finscore.models.onnx import OnnxProbability
from finscore.models.store import ModelStore
from finscore.products import product
from finscore.products.columns import columns_of
from finscore.products.scoring import Scorer
from finscore.products.spec import load
from finscore.models.champion import LoadedModel
from tests.conftest import promote_candidate


@pytest.fixture(scope="session")
def risk_candidate_of():
    """The quick risk model with ALGORITHM as its only candidate (XGBoost, or its LightGBM twin)."""
    from training.pipeline import build_candidate

    trained = {}

    def candidate(algorithm: str):
        if algorithm not in trained:
            quick = product("risk").quick_training
            trained[algorithm] = build_candidate("risk", rows=quick["rows"], seed=quick["seed"], progress=False,
                                                 config={**quick["config"], "algorithms": [algorithm]})
            manifest = trained[algorithm].manifest
            assert manifest.parity.passed and manifest.extra["model"]["algorithm"] == algorithm
        return trained[algorithm]

    return candidate


def published(aws, candidate):
    """CANDIDATE in the moto model store: its manifest and the store's verified reader."""
    manifest = promote_candidate(aws, candidate)
    store = ModelStore(aws["MODELS_BUCKET"])
    return manifest, lambda name: store.read_artifact(manifest, name)


def both_ways(name, manifest, read, test):
    """The ONNX model and its native twin, their raw probabilities and their outputs for the held-out
    records TEST."""
    spec = product(name)
    onnx = load(spec.model).load(manifest, read)
    twin = native_twin(onnx, manifest, read)
    columns = columns_of(test)
    matrix = load(spec.features).matrix(columns)
    outputs = [Scorer(spec, LoadedModel(manifest.version, manifest, model)).predict(columns) for model in (onnx, twin)]
    return twin, np.abs(onnx.trees(matrix) - twin.trees(matrix)), outputs


def assert_same_outputs(manifest, by_onnx, by_native):
    """Labels agree on the rule's share of rows; numbers (rounded for users) on nearly every row."""
    for output in manifest.outputs:
        ours, theirs = by_onnx[output.name], by_native[output.name]
        if np.issubdtype(ours.dtype, np.floating):
            assert np.mean(np.isclose(ours, theirs, rtol=0, atol=1e-5)) >= 0.99, output.name
        else:
            assert np.mean(ours == theirs) >= manifest.parity.min_label_agreement, output.name


@pytest.mark.parametrize(("name", "algorithm", "fmt"), [
    ("risk", "xgboost", "xgboost-json"), ("risk", "lightgbm", "lightgbm-text"), ("propensity", None, "xgboost-json")])
def test_the_native_twin_answers_what_onnx_answers_on_held_out_rows(aws, candidates, risk_candidate_of, name,
                                                                     algorithm, fmt):
    candidate = risk_candidate_of(algorithm) if algorithm else candidates(name)
    manifest, read = published(aws, candidate)

    twin, diffs, (by_onnx, by_native) = both_ways(name, manifest, read, candidate.test)

    rule = manifest.parity
    assert isinstance(twin.trees, NativeProbability) and twin.trees.format == fmt
    # XGBoost, like ONNX, splits in float32 and agrees to rounding; LightGBM splits in float64, which
    # the risk rule allows on a few rows.
    assert diffs.max() <= (rule.tolerance if fmt == "xgboost-json" else rule.max_abs_diff_all_rows)
    assert np.mean(diffs <= rule.tolerance) >= rule.min_share_within_tolerance
    assert_same_outputs(manifest, by_onnx, by_native)


def test_demands_three_boosters_answer_what_its_onnx_graphs_answer(aws, candidates):
    candidate = candidates("demand")
    manifest, read = published(aws, candidate)
    spec = product("demand")
    onnx = load(spec.model).load(manifest, read)

    twin = batch_model(onnx, manifest, read)

    assert twin is not onnx and set(twin.native) == set(manifest.extra["native"])
    assert all(isinstance(booster, NativeProbability) for booster in twin.native.values())
    matrix = load(spec.features).matrix(columns_of(candidate.test))
    ours, theirs = onnx.boosters(matrix), twin.boosters(matrix)
    for name, own in manifest.parity.per_model.items():
        assert np.abs(ours[name] - theirs[name]).max() <= own["tolerance"], name
    by_onnx, by_native = (Scorer(spec, LoadedModel(manifest.version, manifest, model)).predict(columns_of(candidate.test))
                          for model in (onnx, twin))
    assert_same_outputs(manifest, by_onnx, by_native)


def test_one_demand_booster_that_disagrees_with_its_graph_refuses_all_three(aws, candidates):
    # The rise classifier's booster standing in for the demand regressor: it loads and predicts, and
    # the regressor's own tolerance on the parity sample is what refuses it.
    manifest, read = published(aws, candidates("demand"))
    swapped = manifest.model_copy(update={"extra": {**manifest.extra, "native": {
        **manifest.extra["native"], "demand": dict(manifest.extra["native"]["rise"])}}})
    onnx = load(product("demand").model).load(swapped, read)

    with pytest.raises(NativeRefused, match="parity with ONNX fails .*demand: max"):
        native_twin(onnx, swapped, read)
    assert batch_model(onnx, swapped, read) is onnx


def test_the_batch_loader_takes_the_twin_and_the_api_keeps_onnx(aws, risk_candidate_of):
    promote_candidate(aws, risk_candidate_of("xgboost"))
    scoring.reset_models()
    from finscore.products.scoring import champion as api_champion, reset_champions

    try:
        assert isinstance(scoring.champion("risk").get().model.trees, NativeProbability)
        assert isinstance(api_champion("risk").get().model.trees, OnnxProbability)
    finally:
        scoring.reset_models()
        reset_champions()


def test_a_lightgbm_twin_that_passes_parity_still_leaves_the_file_to_its_faster_onnx_graph(aws, risk_candidate_of):
    manifest, read = published(aws, risk_candidate_of("lightgbm"))
    onnx = load(product("risk").model).load(manifest, read)

    assert isinstance(native_twin(onnx, manifest, read).trees, NativeProbability)
    assert batch_model(onnx, manifest, read) is onnx


def test_a_native_artifact_failing_its_sha256_leaves_the_file_to_onnx(aws, risk_candidate_of):
    manifest, read = published(aws, risk_candidate_of("xgboost"))
    native = manifest.extra["native"]["artifact"]
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key=manifest.prefix() + native, Body=b"{}")
    onnx = load(product("risk").model).load(manifest, read)

    with pytest.raises(NativeRefused, match="sha256"):
        native_twin(onnx, manifest, read)
    assert batch_model(onnx, manifest, read) is onnx


def test_a_missing_booster_library_leaves_the_file_to_onnx(aws, candidates, monkeypatch):
    manifest, read = published(aws, candidates("propensity"))
    onnx = load(product("propensity").model).load(manifest, read)
    monkeypatch.setitem(sys.modules, "xgboost", None)  # what an image without the boosters group has

    with pytest.raises(NativeRefused, match="xgboost is not installed"):
        native_twin(onnx, manifest, read)
    assert batch_model(onnx, manifest, read) is onnx


def test_a_booster_that_disagrees_with_onnx_is_refused(aws, risk_candidate_of):
    # Another version's booster under this version's name (its sha256 made to match): it loads, and
    # parity on the held-out sample is what refuses it.
    manifest, read = published(aws, risk_candidate_of("xgboost"))
    other, other_read = published(aws, risk_candidate_of("lightgbm"))
    foreign = {**manifest.extra["native"], "artifact": other.extra["native"]["artifact"],
               "format": other.extra["native"]["format"]}
    mixed = manifest.model_copy(update={"extra": {**manifest.extra, "native": foreign}, "artifacts": {
        **manifest.artifacts, foreign["artifact"]: other.artifacts[foreign["artifact"]]}})

    def mixed_read(name):
        return other_read(name) if name == foreign["artifact"] else read(name)

    onnx = load(product("risk").model).load(mixed, mixed_read)

    with pytest.raises(NativeRefused, match="parity with ONNX fails"):
        native_twin(onnx, mixed, mixed_read)
    assert batch_model(onnx, mixed, mixed_read) is onnx


def test_a_version_without_a_parity_sample_scores_with_onnx(aws, risk_candidate_of):
    manifest, read = published(aws, risk_candidate_of("xgboost"))
    older = manifest.model_copy(update={"artifacts": {name: entry for name, entry in manifest.artifacts.items()
                                                      if name != PARITY_SAMPLE_ARTIFACT}})
    onnx = load(product("risk").model).load(older, read)

    with pytest.raises(NativeRefused, match="no parity sample"):
        native_twin(onnx, older, read)


def test_a_model_without_a_native_scorer_is_left_as_it_is(aws, candidates):
    manifest, read = published(aws, candidates("recommend"))
    model = load(product("recommend").model).load(manifest, read)

    assert batch_model(model, manifest, read) is model


def test_the_parity_sample_is_held_out_rows_of_the_model_features(aws, candidates):
    candidate = candidates("risk")
    manifest, read = published(aws, candidate)

    document = json.loads(read(PARITY_SAMPLE_ARTIFACT))

    held_out = load(product("risk").features).matrix(columns_of(candidate.test))
    assert document["features"] == manifest.feature_names
    assert 0 < len(document["rows"]) <= len(held_out)
    assert set(map(tuple, np.asarray(document["rows"], np.float32))) <= set(map(tuple, held_out))


@pytest.mark.parametrize(("onnx", "native", "issue"), [
    ([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], None),
    ([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.42], "exceeds"),
    ([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.305, 0.405], "of rows within"),
])
def test_the_parity_rule_bounds_every_row_and_the_share_within_tolerance(onnx, native, issue):
    rule = ParityResult(passed=True, rows=4, rule="r", tolerance=1e-4, min_share_within_tolerance=0.75,
                        max_abs_diff_all_rows=1e-2, min_label_agreement=1.0)

    found = parity_issue(np.array(onnx), np.array(native), {}, {}, rule)

    assert (found is None) if issue is None else (issue in found)


def test_the_parity_rule_bounds_label_agreement():
    rule = ParityResult(passed=True, rows=4, rule="r", tolerance=1e-4, min_label_agreement=0.9)
    same = np.array([0.5, 0.5, 0.5, 0.5])

    found = parity_issue(same, same, {"risk_level": np.array(["low", "low", "high", "high"], dtype=object)},
                         {"risk_level": np.array(["low", "low", "high", "critical"], dtype=object)}, rule)

    assert "risk_level agrees on 75.00% of rows" in found
