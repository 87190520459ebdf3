"""The champion cache: TTL-bounded registry checks, atomic swaps, bad artifacts never swapped in."""

from __future__ import annotations

import pytest

from finscore.aws import client
from finscore.errors import ModelUnavailable
from finscore.models.champion import ChampionCache
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from tests.fakes import publish_fake_version


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(aws):
    store, registry = ModelStore(aws["MODELS_BUCKET"]), ModelRegistry(aws["REGISTRY_TABLE"])
    loads: list[str] = []

    def loader(manifest, read):
        loads.append(manifest.version)
        return read("model.bin").decode()

    clock = Clock()
    cache = ChampionCache("recommend", loader, registry, store, ttl_seconds=60, clock=clock)
    return store, registry, cache, clock, loads


def test_without_a_champion_the_model_is_unavailable(setup):
    _, _, cache, _, _ = setup
    with pytest.raises(ModelUnavailable):
        cache.get()


def test_the_champion_is_loaded_once_and_reused_within_the_ttl(setup):
    store, registry, cache, clock, loads = setup
    publish_fake_version(store, registry, "recommend", "v01")
    registry.promote("recommend", "v01")

    first = cache.get()
    clock.now = 59
    second = cache.get()

    assert first is second and first.model == "model v01"
    assert loads == ["v01"]


def test_a_new_champion_is_served_after_the_ttl(setup):
    store, registry, cache, clock, loads = setup
    for version in ("v01", "v02"):
        publish_fake_version(store, registry, "recommend", version)
    registry.promote("recommend", "v01")
    assert cache.get().version == "v01"

    registry.promote("recommend", "v02")
    clock.now = 30
    assert cache.get().version == "v01", "within the TTL the cached champion serves"
    clock.now = 61
    assert cache.get().model == "model v02"


def test_a_champion_with_a_corrupt_artifact_never_replaces_the_good_one(setup, aws):
    store, registry, cache, clock, loads = setup
    for version in ("v01", "v02"):
        publish_fake_version(store, registry, "recommend", version)
    registry.promote("recommend", "v01")
    cache.get()
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v02/model.bin", Body=b"corrupted")

    registry.promote("recommend", "v02")
    clock.now = 61
    served = cache.get()

    assert served.version == "v01" and served.model == "model v01"


def test_a_corrupt_first_champion_is_unavailable_not_served(setup, aws):
    store, registry, cache, _, _ = setup
    publish_fake_version(store, registry, "recommend", "v01")
    registry.promote("recommend", "v01")
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/model.bin", Body=b"corrupted")

    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        cache.get()


def test_an_unreachable_registry_keeps_the_cached_champion_serving(setup, aws):
    store, registry, cache, clock, _ = setup
    publish_fake_version(store, registry, "recommend", "v01")
    registry.promote("recommend", "v01")
    cache.get()
    client("dynamodb").delete_table(TableName=aws["REGISTRY_TABLE"])

    clock.now = 61
    assert cache.get().version == "v01"


def test_a_cold_cache_loads_as_soon_as_the_files_are_back_without_waiting_for_the_ttl(setup, aws):
    store, registry, cache, clock, _ = setup
    publish_fake_version(store, registry, "recommend", "v01")
    registry.promote("recommend", "v01")
    key = "recommend/v01/model.bin"
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key=key, Body=b"corrupted")
    with pytest.raises(ModelUnavailable):
        cache.get()

    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key=key, Body=b"model v01")

    assert clock.now == 0 and cache.get().model == "model v01"


def test_a_champion_that_failed_to_load_is_tried_again_after_the_ttl(setup, aws):
    store, registry, cache, clock, _ = setup
    for version in ("v01", "v02"):
        publish_fake_version(store, registry, "recommend", version)
    registry.promote("recommend", "v01")
    cache.get()
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v02/model.bin", Body=b"corrupted")
    registry.promote("recommend", "v02")
    clock.now = 61
    assert cache.get().version == "v01"

    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v02/model.bin", Body=b"model v02")
    clock.now = 122

    assert cache.get().version == "v02"
