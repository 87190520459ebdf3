"""The shared training pipeline: splits, versions, the parity gate and the promotion gate."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from finscore.models.manifest import FeatureSpec, OutputSpec, ParityResult
from finscore.models.registry import ModelRegistry
from finscore.models.store import Artifact, ModelStore
from training import cli
from training.pipeline import ModelDescription, decide, new_version, split_records, train_product


def fake_product(quality: float, *, difficulty: float = 0.0, parity: bool = True, feature: str = "x") -> Any:
    """A product whose model is one number: its accuracy is quality minus the rows' mean difficulty.

    Scoring depends on the rows, so a champion re-scored on the candidate's held-out rows gets a
    different value than the one recorded in its own manifest.
    """
    def accuracy(model_quality: float, rows) -> float:
        return model_quality - float(np.mean([row["difficulty"] for row in rows]))

    return SimpleNamespace(
        name="fake",
        primary_metric="accuracy",
        higher_is_better=True,
        default_rows=1_000,
        libraries=("numpy",),
        generate=lambda rows, seed: [{"x": float(i), "difficulty": difficulty} for i in range(rows)],
        validate=lambda records: (list(records), []),
        fit=lambda train, validation, seed, config: quality,
        evaluate=lambda fitted, test: {"accuracy": accuracy(fitted, test)},
        export_onnx=lambda fitted: {"model.json": Artifact(json.dumps({"quality": fitted}).encode(), "json", "serving")},
        parity=lambda fitted, artifacts, test: ParityResult(passed=parity, rows=len(test), rule="fake rule"),
        describe=lambda fitted: ModelDescription(features=[FeatureSpec(name=feature)],
                                                 outputs=[OutputSpec(name="y", type="float")]),
        feature_matrix=lambda records: np.array([[record["x"]] for record in records], dtype=np.float32),
        serving_outputs=lambda manifest, read, test: {
            "quality": np.full(len(test), json.loads(read("model.json"))["quality"])},
        gate_metrics=lambda outputs, test: {"accuracy": accuracy(float(np.mean(outputs["quality"])), test)},
    )


@pytest.fixture
def store_and_registry(aws):
    return ModelStore(aws["MODELS_BUCKET"]), ModelRegistry(aws["REGISTRY_TABLE"])


def train(product, store_and_registry, tolerance: float = 0.01):
    store, registry = store_and_registry
    return train_product(product, store=store, registry=registry, tolerance=tolerance, progress=False)


def test_splits_are_70_15_15_disjoint_and_seeded():
    records = [{"id": i} for i in range(1_000)]
    train_rows, validation, test = split_records(records, seed=3)
    assert (len(train_rows), len(validation), len(test)) == (700, 150, 150)
    ids = [r["id"] for part in (train_rows, validation, test) for r in part]
    assert sorted(ids) == list(range(1_000))
    assert split_records(records, seed=3) == (train_rows, validation, test)
    assert split_records(records, seed=4)[2] != test


def test_versions_sort_by_creation_time():
    earlier = datetime(2026, 11, 21, 5, 23, 1, tzinfo=timezone.utc)
    first, second = new_version(earlier), new_version(earlier + timedelta(seconds=1))
    assert re.fullmatch(r"20261121T052301Z-[0-9a-f]{6}", first)
    assert sorted([second, first]) == [first, second]


@pytest.mark.parametrize(
    ("candidate", "champion", "higher_is_better", "promote"),
    [
        (0.91, 0.90, True, True),  # better
        (0.895, 0.90, True, True),  # worse, within tolerance
        (0.89, 0.90, True, True),  # worse by exactly the tolerance
        (0.88, 0.90, True, False),  # worse beyond tolerance
        (0.20, 0.22, False, True),  # lower is better: better
        (0.24, 0.22, False, False),  # lower is better: worse beyond tolerance
    ],
)
def test_decide(candidate, champion, higher_is_better, promote):
    decision = decide(candidate, champion, tolerance=0.01, higher_is_better=higher_is_better, metric="m",
                      champion_version="v1", basis="test")
    assert decision.promote is promote
    assert decision.reason.startswith("promoted" if promote else "rejected")
    assert "v1" in decision.reason


def test_the_first_candidate_becomes_champion(store_and_registry):
    result = train(fake_product(0.9), store_and_registry)

    assert result.registered and result.promoted
    assert "no champion" in result.decision
    assert store_and_registry[1].champion_version("fake") == result.manifest.version
    assert set(result.manifest.artifacts) == {"model.json", "baseline.json", "fitted_rows.json"}


def test_a_better_candidate_is_promoted_and_the_old_champion_archived(store_and_registry):
    _, registry = store_and_registry
    first = train(fake_product(0.90), store_and_registry)

    second = train(fake_product(0.95), store_and_registry)

    assert second.promoted
    assert registry.champion_version("fake") == second.manifest.version
    assert registry.get("fake", first.manifest.version).status == "archived"


def test_a_worse_candidate_is_rejected_and_the_champion_keeps_serving(store_and_registry):
    _, registry = store_and_registry
    champion = train(fake_product(0.90), store_and_registry)

    worse = train(fake_product(0.85), store_and_registry, tolerance=0.01)

    assert worse.registered and not worse.promoted
    entry = registry.get("fake", worse.manifest.version)
    assert entry.status == "rejected"
    assert entry.status_reason == worse.decision and "rejected" in worse.decision
    assert registry.champion_version("fake") == champion.manifest.version


def test_the_champion_is_rescored_on_the_candidate_held_out_rows(store_and_registry):
    # Given a champion whose manifest records 0.90 on easy data
    train(fake_product(0.90, difficulty=0.0), store_and_registry)
    # When a candidate trains on harder data: 0.95 - 0.2 = 0.75 on its own held-out rows
    result = train(fake_product(0.95, difficulty=0.2), store_and_registry)
    # Then the champion is judged on those same rows (0.90 - 0.2 = 0.70), not by its recorded 0.90
    assert result.promoted
    assert "0.7500 vs champion" in result.decision and "0.7000" in result.decision


def test_a_champion_with_another_feature_schema_is_judged_by_its_recorded_metric(store_and_registry):
    train(fake_product(0.90, difficulty=0.0), store_and_registry)

    result = train(fake_product(0.95, difficulty=0.2, feature="z"), store_and_registry)

    assert not result.promoted  # 0.75 against the recorded 0.90
    assert "feature schema differs" in result.decision


def test_a_failed_parity_is_never_registered(store_and_registry):
    _, registry = store_and_registry
    champion = train(fake_product(0.90), store_and_registry)

    result = train(fake_product(0.99, parity=False), store_and_registry)

    assert not result.registered and not result.promoted
    assert "parity" in result.decision
    assert [entry.version for entry in registry.list_versions("fake")] == [champion.manifest.version]


def test_retraining_recommend_on_the_same_data_is_promoted(store_and_registry, recommend_champion):
    _, registry = store_and_registry

    result = train_product("recommend", store=store_and_registry[0], registry=registry, rows=2_000, seed=11,
                           progress=False)

    assert result.promoted, result.decision
    assert "both served on 300 held-out rows neither fitted on" in result.decision
    assert "95% interval" in result.decision and result.gate.rows == 300
    assert registry.champion_version("recommend") == result.manifest.version
    assert registry.get("recommend", recommend_champion.version).status == "archived"
    assert set(result.timings) >= {"fit", "parity gate", "promotion gate"}


def test_the_cli_trains_registers_and_reports(aws, capsys):
    status = cli.main(["recommend", "--rows", "500", "--seed", "5", "--no-progress"])

    out = capsys.readouterr().out
    assert status == 0
    assert "mean_served_accuracy (primary)" in out and "silhouette" in out
    assert "gate: promoted: no champion yet" in out
    assert ModelRegistry(aws["REGISTRY_TABLE"]).champion_version("recommend") is not None


def test_the_cli_names_a_missing_variable(monkeypatch, capsys):
    monkeypatch.delenv("MODELS_BUCKET", raising=False)
    monkeypatch.setenv("REGISTRY_TABLE", "finscore-local-model-registry-table")

    assert cli.main(["recommend", "--no-progress"]) == 2
    assert "MODELS_BUCKET" in capsys.readouterr().err


def test_rows_the_champion_fitted_on_are_left_out_of_the_comparison(store_and_registry):
    from training.gate import FITTED_ROWS, row_keys
    from training.recommend import trainer

    store, registry = store_and_registry
    records = trainer.generate(4_000, 3)
    # The same data split another way: most of the candidate's held-out rows are the champion's training rows.
    champion = train_product("recommend", store=store, registry=registry, data=records, seed=3, progress=False)
    candidate = train_product("recommend", store=store, registry=registry, data=records, seed=4, progress=False)

    fitted = set(json.loads(store.read_artifact(champion.manifest, FITTED_ROWS))["keys"])
    held_out = candidate.manifest.training_data.split["test"]
    candidate_test = split_records(trainer.validate(records)[0], 4)[2]
    overlap = sum(key in fitted for key in row_keys(candidate_test))
    assert overlap > held_out / 2
    gate = candidate.gate
    assert gate.rows == held_out - overlap and gate.interval is not None
    assert f"{overlap} of the candidate's {held_out} held-out rows left out" in candidate.decision
    assert gate.interval[0] <= gate.difference <= gate.interval[1]
    assert candidate.promoted, candidate.decision
    entry = registry.get("recommend", candidate.manifest.version)
    assert entry.gate["rows"] == gate.rows and entry.gate["interval"] == list(gate.interval)
