"""SnapStart hooks: the champion loaded before the snapshot, randomness re-seeded and the champion re-checked after restore."""

from __future__ import annotations

import random
import sys
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

from finscore.models.registry import ModelRegistry
from finscore.products import products
from finscore.products.scoring import champion, reset_champions
from finscore.products.snapshot import after_restore, before_snapshot, register_hooks
from finscore.resources import PRODUCT_ENV
from tests.conftest import promote_candidate

PRODUCT = next(iter(products()))


@pytest.fixture
def snapshot_function(aws, monkeypatch):
    """A product API's environment, with a TTL long enough that only a restore makes it re-check."""
    monkeypatch.setenv(PRODUCT_ENV, PRODUCT)
    monkeypatch.setenv("REGISTRY_TTL", "3600")
    reset_champions()
    yield aws
    reset_champions()


def test_before_snapshot_loads_the_functions_champion(snapshot_function, candidates):
    manifest = promote_candidate(snapshot_function, candidates(PRODUCT))

    before_snapshot()

    loaded = champion(PRODUCT).current
    assert loaded is not None and loaded.version == manifest.version


def test_before_snapshot_without_a_champion_lets_the_version_publish(snapshot_function):
    # A first deployment has no trained model yet: the snapshot is taken without one.
    before_snapshot()

    assert champion(PRODUCT).current is None


def test_after_restore_serves_the_champion_promoted_since_the_snapshot(snapshot_function, candidates):
    candidate = candidates(PRODUCT)
    first = promote_candidate(snapshot_function, candidate)
    before_snapshot()
    # Given a newer champion promoted after the snapshot, well within the registry TTL...
    newer = candidate.manifest.model_copy(update={"version": first.version + "-next"})
    promote_candidate(snapshot_function, SimpleNamespace(manifest=newer, artifacts=candidate.artifacts))

    after_restore()

    assert champion(PRODUCT).current.version == newer.version
    assert ModelRegistry(snapshot_function["REGISTRY_TABLE"]).champion_version(PRODUCT) == newer.version


def test_after_restore_reseeds_random_and_numpy():
    # Two environments restored from one snapshot start with the same generator state...
    random.seed(7)
    np.random.seed(7)
    snapshot_draws = (random.random(), np.random.random())
    random.seed(7)
    np.random.seed(7)

    after_restore()

    # ...and draw differently once the hook has re-seeded them.
    assert (random.random(), np.random.random()) != snapshot_draws


def test_after_restore_keeps_the_environment_up_without_a_champion(snapshot_function):
    after_restore()

    assert champion(PRODUCT).current is None


def test_hooks_register_only_where_the_runtime_offers_them(monkeypatch):
    registered = []
    runtime = ModuleType("snapshot_restore_py")
    runtime.register_before_snapshot = lambda hook: registered.append(("before", hook))
    runtime.register_after_restore = lambda hook: registered.append(("after", hook))

    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)
    assert register_hooks() is False and registered == []

    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert register_hooks() is True
    assert registered == [("before", before_snapshot), ("after", after_restore)]
