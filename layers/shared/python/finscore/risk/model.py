"""The risk model on the serving path: ONNX and numpy only, loaded once, then pure.

The ONNX graph gives the boosted trees' raw probability of going 60+ days past due; the Platt
calibration fitted at training time (stored in the manifest's thresholds) turns it into a
calibrated probability with numpy, so serving needs no scikit-learn. risk_score = 100 x the
calibrated probability, rounded to one decimal; the level follows from the rounded score, so the
score a user sees and its level always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import onnxruntime as ort

from finscore.models.manifest import Manifest
from finscore.models.onnx import session_from_bytes
from finscore.risk.features import FEATURE_NAMES, feature_vector

LEVELS = ("low", "medium", "high", "critical")
PROBABILITY_OUTPUT = "probabilities"
# Probabilities are clipped away from 0 and 1 before the logit: float32 trees can return exactly 0 or 1.
LOGIT_EPSILON = 1e-7


@dataclass(frozen=True)
class RiskScore:
    probability: float
    risk_score: float
    risk_level: str


@dataclass(frozen=True)
class RiskModel:
    version: str
    session: ort.InferenceSession
    input_name: str
    platt_a: float
    platt_b: float
    cutoffs: tuple[float, float, float]


def check_cutoffs(cutoffs: Sequence[float]) -> tuple[float, float, float]:
    """Three strictly ascending lower bounds (medium, high, critical) within 0-100, or ValueError."""
    values = tuple(float(value) for value in cutoffs)
    if len(values) != 3 or not all(0.0 <= value <= 100.0 for value in values) or not values[0] < values[1] < values[2]:
        raise ValueError(f"Risk level cut-offs must be three ascending numbers in 0-100, got {list(cutoffs)}")
    return values  # type: ignore[return-value]


def risk_level(score: float, cutoffs: Sequence[float]) -> str:
    """The level of a 0-100 SCORE: each cut-off is the inclusive lower bound of medium, high, critical."""
    low_medium, medium_high, high_critical = cutoffs
    if score >= high_critical:
        return "critical"
    if score >= medium_high:
        return "high"
    return "medium" if score >= low_medium else "low"


def calibrate(raw: np.ndarray, a: float, b: float) -> np.ndarray:
    """Platt scaling on the log-odds of the raw probability: sigmoid(a * logit(p) + b)."""
    p = np.clip(np.asarray(raw, dtype=np.float64), LOGIT_EPSILON, 1.0 - LOGIT_EPSILON)
    return 1.0 / (1.0 + np.exp(-(a * np.log(p / (1.0 - p)) + b)))


def load_risk_model(manifest: Manifest, read: Callable[[str], bytes]) -> RiskModel:
    """The serving model MANIFEST describes; READ returns an artifact's verified bytes by name."""
    if tuple(manifest.feature_names) != FEATURE_NAMES:
        raise ValueError(
            f"risk {manifest.version} was trained on features {manifest.feature_names}, "
            f"but this code computes {list(FEATURE_NAMES)}"
        )
    calibration = manifest.thresholds["calibration"]
    if calibration.get("method") != "platt":
        raise ValueError(f"risk {manifest.version}: unknown calibration {calibration.get('method')!r}")
    session = session_from_bytes(read(manifest.extra["model"]["artifact"]))
    return RiskModel(
        version=manifest.version,
        session=session,
        input_name=session.get_inputs()[0].name,
        platt_a=float(calibration["a"]),
        platt_b=float(calibration["b"]),
        cutoffs=check_cutoffs(manifest.thresholds["level_cutoffs"]),
    )


def raw_probabilities(model: RiskModel, matrix: np.ndarray) -> np.ndarray:
    """The trees' uncalibrated probability of the positive class for each row of MATRIX."""
    features = np.ascontiguousarray(matrix, dtype=np.float32)
    return model.session.run([PROBABILITY_OUTPUT], {model.input_name: features})[0][:, 1]


def probabilities(model: RiskModel, matrix: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for each row of MATRIX."""
    return calibrate(raw_probabilities(model, matrix), model.platt_a, model.platt_b)


def score_arrays(model: RiskModel, matrix: np.ndarray,
                 cutoffs: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch form: calibrated probabilities, risk scores (0-100, one decimal) and level indexes into LEVELS."""
    bounds = np.asarray(check_cutoffs(cutoffs) if cutoffs is not None else model.cutoffs)
    probability = probabilities(model, matrix)
    scores = np.round(100.0 * probability, 1)
    return probability, scores, np.searchsorted(bounds, scores, side="right")


def score_matrix(model: RiskModel, matrix: np.ndarray, cutoffs: Sequence[float] | None = None) -> list[RiskScore]:
    probability, scores, levels = score_arrays(model, matrix, cutoffs)
    return [RiskScore(p, s, LEVELS[level]) for p, s, level in zip(probability.tolist(), scores.tolist(), levels.tolist())]


def score_features(model: RiskModel, features: Mapping[str, float], cutoffs: Sequence[float] | None = None) -> RiskScore:
    """One customer's score; ValidationFailed names missing or non-numeric features."""
    bounds = check_cutoffs(cutoffs) if cutoffs is not None else model.cutoffs
    raw = raw_probabilities(model, feature_vector(features).reshape(1, -1))
    probability = float(calibrate(raw, model.platt_a, model.platt_b)[0])
    score = round(100.0 * probability, 1)
    return RiskScore(probability, score, risk_level(score, bounds))
