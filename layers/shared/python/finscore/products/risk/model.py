"""The risk model on the serving path: ONNX and numpy only, loaded once, then pure.

The ONNX graph gives the boosted trees' raw probability of going 60+ days past due; the Platt
calibration fitted at training time (stored in the manifest's thresholds) turns it into a
calibrated probability with numpy, so serving needs no scikit-learn. risk_score = 100 x the
calibrated probability, rounded to one decimal; the level follows from the rounded score, so the
score a user sees and its level always agree. Batch files may score with the version's native
booster in place of the ONNX graph (`with_trees`, finscore.models.native), checked against it first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from finscore.models.calibration import calibrate
from finscore.models.manifest import Manifest
from finscore.models.onnx import OnnxProbability
from finscore.products.risk.features import FEATURE_NAMES

LEVELS = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class RiskModel:
    """The serving model: ONNX trees, the Platt calibration and the level cut-offs of one version."""

    version: str
    # The boosted trees' uncalibrated probability of each row of a matrix: the ONNX graph, or in batch
    # files the native booster that agrees with it.
    trees: Callable[[np.ndarray], np.ndarray]
    platt_a: float
    platt_b: float
    cutoffs: tuple[float, float, float]

    @classmethod
    def load(cls, manifest: Manifest, read: Callable[[str], bytes]) -> RiskModel:
        """The serving model MANIFEST describes; READ returns an artifact's verified bytes by name."""
        manifest.require_features(FEATURE_NAMES)
        calibration = manifest.thresholds["calibration"]
        if calibration.get("method") != "platt":
            raise ValueError(f"risk {manifest.version}: unknown calibration {calibration.get('method')!r}")
        return cls(
            version=manifest.version,
            trees=OnnxProbability.from_bytes(read(manifest.extra["model"]["artifact"])),
            platt_a=float(calibration["a"]),
            platt_b=float(calibration["b"]),
            cutoffs=check_cutoffs(manifest.thresholds["level_cutoffs"]),
        )

    def with_cutoffs(self, cutoffs: Sequence[float] | None) -> RiskModel:
        """The same model levelling scores at CUTOFFS (a deployment's RISK_LEVEL_CUTOFFS), or itself."""
        return self if cutoffs is None else replace(self, cutoffs=check_cutoffs(cutoffs))

    def with_trees(self, trees: Callable[[np.ndarray], np.ndarray]) -> RiskModel:
        """The same model with other TREES of the same version (its native booster, for batch files)."""
        return replace(self, trees=trees)

    def predict(self, matrix: np.ndarray, columns: Any = None) -> dict[str, np.ndarray]:
        """Calibrated probability (six decimals), risk_score (100 x probability, one decimal) and
        risk_level for every row of MATRIX; the level follows from the rounded score."""
        probability = probabilities(self, matrix)
        scores = np.round(100.0 * probability, 1)
        return {"probability": np.round(probability, 6), "risk_score": scores,
                "risk_level": risk_levels(scores, self.cutoffs)}


def check_cutoffs(cutoffs: Sequence[float]) -> tuple[float, float, float]:
    """Three strictly ascending lower bounds (medium, high, critical) within 0-100, or ValueError."""
    values = tuple(float(value) for value in cutoffs)
    if len(values) != 3 or not all(0.0 <= value <= 100.0 for value in values) or not values[0] < values[1] < values[2]:
        raise ValueError(f"Risk level cut-offs must be three ascending numbers in 0-100, got {list(cutoffs)}")
    return values  # type: ignore[return-value]


def risk_levels(scores: np.ndarray, cutoffs: Sequence[float]) -> np.ndarray:
    """The level of each 0-100 score: each cut-off is the inclusive lower bound of medium, high, critical."""
    index = np.searchsorted(np.asarray(check_cutoffs(cutoffs)), np.asarray(scores, dtype=np.float64), side="right")
    return _LEVEL_NAMES[index]


_LEVEL_NAMES = np.array(LEVELS, dtype=object)


def raw_probabilities(model: RiskModel, matrix: np.ndarray) -> np.ndarray:
    """The trees' uncalibrated probability of the positive class for each row of MATRIX."""
    return model.trees(matrix)


def probabilities(model: RiskModel, matrix: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for each row of MATRIX."""
    return calibrate(raw_probabilities(model, matrix), model.platt_a, model.platt_b)
