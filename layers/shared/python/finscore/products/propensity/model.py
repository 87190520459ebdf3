"""The propensity model on the serving path: an XGBoost classifier as ONNX, and the decision threshold
chosen on validation, loaded once from the manifest; then pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import onnxruntime as ort

from finscore.models.manifest import Manifest
from finscore.models.onnx import session_from_bytes
from finscore.products.propensity.features import FEATURE_NAMES

PROBABILITY_OUTPUT = "probabilities"
OUTPUTS = ("propensity", "purchase")


@dataclass(frozen=True)
class PropensityModel:
    version: str
    session: ort.InferenceSession
    input_name: str
    threshold: float

    @classmethod
    def load(cls, manifest: Manifest, read: Callable[[str], bytes]) -> PropensityModel:
        manifest.require_features(FEATURE_NAMES)
        session = session_from_bytes(read(manifest.extra["model"]["artifact"]))
        return cls(manifest.version, session, session.get_inputs()[0].name,
                   float(manifest.thresholds["decision_threshold"]))

    def predict(self, matrix: np.ndarray, columns: Any = None) -> dict[str, np.ndarray]:
        """The probability that each row's investor buys its stock on the next trading day (six decimals),
        and whether it reaches the decision threshold."""
        features = np.ascontiguousarray(matrix, dtype=np.float32)
        probability = self.session.run([PROBABILITY_OUTPUT], {self.input_name: features})[0][:, 1].astype(np.float64) \
            if len(features) else np.empty(0)
        propensity = np.round(probability, 6)
        return {"propensity": propensity, "purchase": propensity >= self.threshold}
