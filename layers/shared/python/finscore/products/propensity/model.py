"""The propensity model on the serving path: an XGBoost classifier as ONNX, and the decision threshold
chosen on validation, loaded once from the manifest; then pure. Batch files may score with the
version's native booster in place of the ONNX graph (`with_trees`, finscore.models.native)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from finscore.models.manifest import Manifest
from finscore.models.onnx import OnnxProbability
from finscore.products.propensity.features import FEATURE_NAMES

OUTPUTS = ("propensity", "purchase")


@dataclass(frozen=True)
class PropensityModel:
    version: str
    # The classifier's probability of each row of a matrix: the ONNX graph, or in batch files the
    # native booster that agrees with it.
    trees: Callable[[np.ndarray], np.ndarray]
    threshold: float

    @classmethod
    def load(cls, manifest: Manifest, read: Callable[[str], bytes]) -> PropensityModel:
        manifest.require_features(FEATURE_NAMES)
        return cls(manifest.version, OnnxProbability.from_bytes(read(manifest.extra["model"]["artifact"])),
                   float(manifest.thresholds["decision_threshold"]))

    def with_trees(self, trees: Callable[[np.ndarray], np.ndarray]) -> PropensityModel:
        """The same model with other TREES of the same version (its native booster, for batch files)."""
        return replace(self, trees=trees)

    def predict(self, matrix: np.ndarray, columns: Any = None) -> dict[str, np.ndarray]:
        """The probability that each row's investor buys its stock on the next trading day (six decimals),
        and whether it reaches the decision threshold."""
        propensity = np.round(self.trees(matrix), 6)
        return {"propensity": propensity, "purchase": propensity >= self.threshold}
