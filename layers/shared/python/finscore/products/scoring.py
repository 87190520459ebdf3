"""Scoring any product with one loaded model version: columns in, the manifest's outputs out.

Every caller of a model goes through `Scorer.predict`: the API's single and batch routes, batch
files, the promotion gate, the local seed and drift capture (which samples what predict saw and
answered). Champion caches are created per product on first use, never at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from finscore.models.champion import ChampionCache, LoadedModel, serving_champion
from finscore.products import product
from finscore.products.columns import Columns
from finscore.products.spec import ProductSpec, load
from finscore.settings import ModelServingSettings, load_settings


def row_outputs(outputs: Mapping[str, np.ndarray], row: int) -> dict[str, Any]:
    """One row of OUTPUTS as plain Python values (numpy scalars unwrapped, NaN as None)."""
    answer = {}
    for name, values in outputs.items():
        value = values[row]
        value = value.item() if isinstance(value, np.generic) else value
        answer[name] = None if isinstance(value, float) and value != value else value
    return answer


@dataclass(frozen=True)
class Scorer:
    """One product scored with one loaded version; CAPTURE samples what it scores for drift, and
    records it scores are counted for the activity figures as scored by COUNTED (online: the API and event-driven rescoring; batch: files)."""

    spec: ProductSpec
    loaded: LoadedModel
    capture: bool = False
    counted: str | None = None

    @property
    def version(self) -> str:
        return self.loaded.version

    @property
    def model(self) -> Any:
        return self.loaded.model

    def enrich(self, columns: Columns, count: int) -> tuple[Columns, dict[int, str]]:
        """COLUMNS completed from the product's stores (fields a record may leave out), and the rows that
        cannot be completed with their reasons."""
        if self.spec.enrich is None or count == 0:
            return columns, {}
        return load(self.spec.enrich)(columns, count)

    def matrix(self, columns: Columns) -> np.ndarray:
        return load(self.spec.features).matrix(columns)

    def predict(self, columns: Columns, model: Any = None) -> dict[str, np.ndarray]:
        """The manifest's outputs for every row of COLUMNS (MODEL: the loaded model, or a variant of it)."""
        return self.predict_matrix(self.matrix(columns), columns, model)

    def predict_matrix(self, matrix: np.ndarray, columns: Columns, model: Any = None) -> dict[str, np.ndarray]:
        """predict, for callers that use the matrix of COLUMNS again (explanations)."""
        outputs = (model or self.loaded.model).predict(matrix, columns)
        if self.capture and len(matrix):
            self._capture(matrix, outputs)
        if self.counted and len(matrix):
            self._count(outputs)
        return outputs

    def _count(self, outputs: Mapping[str, np.ndarray]) -> None:
        from finscore.activity.tally import activity_tally

        tally = activity_tally()
        if tally is not None:
            kinds = {output.name: output.type for output in self.loaded.manifest.outputs}
            tally.scored(self.spec.name, outputs, kinds, source=self.counted)

    def _capture(self, matrix: np.ndarray, outputs: Mapping[str, np.ndarray]) -> None:
        from finscore.drift.capture import capture_buffer

        buffer = capture_buffer()
        rows = buffer.sample(len(matrix))
        if not len(rows):
            return
        names = [feature.name for feature in self.loaded.manifest.features]
        for row in rows.tolist():
            buffer.add(self.spec.name, self.version, dict(zip(names, matrix[row].astype(float).tolist())),
                       row_outputs(outputs, row))


@lru_cache(maxsize=None)
def champion(name: str) -> ChampionCache:
    """The execution environment's champion cache for product NAME."""
    spec = product(name)
    return serving_champion(name, load(spec.model).load, load_settings(ModelServingSettings))


def scorer(name: str, *, capture: bool = True) -> Scorer:
    """A scorer of product NAME with its current champion, for the API: what it scores is sampled for
    drift and counted unless CAPTURE is off (routes that score what no client sent, such as a
    segment's profile)."""
    return Scorer(product(name), champion(name).get(), capture, "online" if capture else None)


def reset_champions() -> None:
    """Forget cached champions (tests that start from a fresh model store call this)."""
    champion.cache_clear()
