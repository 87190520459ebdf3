"""The champion cache: each execution environment keeps the loaded champion of a product.

The registry is asked again at most every REGISTRY_TTL seconds. A new champion is loaded completely
before it replaces the old one in a single assignment, so a request sees either model, never a mix;
a version whose artifacts fail their checks is never swapped in and the last good model keeps serving.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from finscore.errors import ArtifactIntegrityError, FinScoreError, ModelUnavailable, NotFound, ServiceUnavailable
from finscore.models.manifest import Manifest
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.observability import logger
from finscore.settings import ModelServingSettings

ModelT = TypeVar("ModelT")
# Builds the in-memory model from a manifest and a reader of its verified artifacts.
Loader = Callable[[Manifest, Callable[[str], bytes]], ModelT]


@dataclass(frozen=True)
class LoadedModel(Generic[ModelT]):
    version: str
    manifest: Manifest
    model: ModelT


class ChampionCache(Generic[ModelT]):
    def __init__(
        self,
        product: str,
        loader: Loader,
        registry: ModelRegistry,
        store: ModelStore,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.product = product
        self._loader = loader
        self._registry = registry
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._current: LoadedModel[ModelT] | None = None
        self._checked_at = float("-inf")
        self._refresh_lock = threading.Lock()

    @property
    def current(self) -> LoadedModel[ModelT] | None:
        return self._current

    def expire(self) -> None:
        """Make the next get() ask the registry whatever the TTL says: after a SnapStart restore the last
        check is as old as the snapshot, and the monotonic clock it was taken on is not this one."""
        self._checked_at = float("-inf")

    def get(self) -> LoadedModel[ModelT]:
        """The champion to serve with, re-checking the registry when the TTL has passed."""
        current = self._current
        if current is not None and self._clock() - self._checked_at < self._ttl:
            return current
        with self._refresh_lock:
            if self._current is not None and self._clock() - self._checked_at < self._ttl:
                return self._current
            return self._refresh()

    def _refresh(self) -> LoadedModel[ModelT]:
        current = self._current
        try:
            version = self._registry.champion_version(self.product)
        except ServiceUnavailable:
            if current is None:
                raise
            logger.warning("Registry unreachable; serving the cached champion", extra={"product": self.product})
            return current
        self._checked_at = self._clock()
        if version is None:
            if current is not None:
                return current
            raise ModelUnavailable(f"No champion model is registered for {self.product}")
        if current is not None and current.version == version:
            return current
        try:
            loaded = self._load(version)
        except (ArtifactIntegrityError, NotFound, ServiceUnavailable, FinScoreError, ValueError, RuntimeError) as exc:
            logger.error(
                "Champion failed to load; keeping the previous model",
                extra={"product": self.product, "version": version, "reason": str(exc)},
            )
            if current is not None:
                return current
            raise ModelUnavailable(f"The {self.product} champion {version} cannot be loaded: {exc}") from exc
        self._current = loaded
        logger.info("Champion loaded", extra={"product": self.product, "version": version})
        return loaded

    def _load(self, version: str) -> LoadedModel[ModelT]:
        manifest = self._store.read_manifest(self.product, version)
        model = self._loader(manifest, lambda name: self._store.read_artifact(manifest, name))
        return LoadedModel(version=version, manifest=manifest, model=model)


def serving_champion(product: str, loader: Loader, settings: ModelServingSettings) -> ChampionCache:
    """The champion cache of PRODUCT over the registry, model store and TTL of a function's settings."""
    return ChampionCache(
        product,
        loader,
        registry=ModelRegistry(settings.registry_table),
        store=ModelStore(settings.models_bucket),
        ttl_seconds=settings.registry_ttl,
    )
