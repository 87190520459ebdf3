"""The registry: one champion per product, atomic promotion, rollback, rejected never promoted."""

from __future__ import annotations

import pytest

from finscore.errors import Conflict, NotFound
from finscore.models.manifest import Manifest, ParityResult, TrainingDataRef
from finscore.models.registry import ModelRegistry


def make_manifest(version: str, accuracy: float = 0.9, product: str = "recommend") -> Manifest:
    return Manifest(
        product=product,
        version=version,
        created_at=f"2026-11-21T00:00:{version[-2:]}+00:00",
        features=[],
        outputs=[],
        metrics={"accuracy": accuracy},
        primary_metric="accuracy",
        training_data=TrainingDataRef(reference="synthetic", rows=10),
        parity=ParityResult(passed=True, rows=10, rule="exact"),
    )


@pytest.fixture
def registry(aws):
    return ModelRegistry(aws["REGISTRY_TABLE"])


def test_first_promotion_makes_the_only_champion(registry):
    registry.register(make_manifest("v01"))
    registry.register(make_manifest("v02"))

    registry.promote("recommend", "v01")

    assert registry.champion_version("recommend") == "v01"
    statuses = {entry.version: entry.status for entry in registry.list_versions("recommend")}
    assert statuses == {"v01": "champion", "v02": "candidate"}


def test_promotion_archives_the_previous_champion_and_rollback_restores_it(registry):
    for version in ("v01", "v02"):
        registry.register(make_manifest(version))
    registry.promote("recommend", "v01")

    registry.promote("recommend", "v02")
    assert registry.champion_version("recommend") == "v02"
    assert registry.get("recommend", "v01").status == "archived"

    restored = registry.rollback("recommend")
    assert restored.version == "v01" and restored.status == "champion"
    assert registry.champion_version("recommend") == "v01"
    assert [e.version for e in registry.list_versions("recommend") if e.status == "champion"] == ["v01"]


def test_rollback_without_history_is_a_conflict(registry):
    registry.register(make_manifest("v01"))
    registry.promote("recommend", "v01")
    with pytest.raises(Conflict):
        registry.rollback("recommend")


def test_a_rollback_to_another_version_than_the_one_checked_is_a_conflict(registry):
    # Given a caller that checked v01's files before rolling back, and a champion moved meanwhile
    for version in ("v01", "v02", "v03"):
        registry.register(make_manifest(version))
        registry.promote("recommend", version)

    with pytest.raises(Conflict, match="changed concurrently"):
        registry.rollback("recommend", expected="v01")

    assert registry.champion_version("recommend") == "v03"
    assert registry.rollback("recommend", expected="v02").version == "v02"


def test_has_versions_sees_a_candidate_without_a_champion(registry):
    assert not registry.has_versions("recommend")
    registry.register(make_manifest("v01"))
    assert registry.has_versions("recommend") and not registry.has_versions("risk")


def test_registering_a_version_twice_never_overwrites(registry):
    registry.register(make_manifest("v01", accuracy=0.9))
    with pytest.raises(Conflict):
        registry.register(make_manifest("v01", accuracy=0.1))
    assert registry.get("recommend", "v01").primary_value == pytest.approx(0.9)


def test_a_rejected_candidate_cannot_be_promoted(registry):
    registry.register(make_manifest("v01"))
    registry.reject("recommend", "v01", "worse than champion")
    with pytest.raises(Conflict):
        registry.promote("recommend", "v01")
    assert registry.champion_version("recommend") is None


def test_unknown_version_is_not_found(registry):
    with pytest.raises(NotFound):
        registry.get("recommend", "nope")


def test_products_have_independent_champions(registry):
    registry.register(make_manifest("v01", product="recommend"))
    registry.register(make_manifest("v01", product="risk"))
    registry.promote("recommend", "v01")
    assert registry.champion_version("risk") is None
