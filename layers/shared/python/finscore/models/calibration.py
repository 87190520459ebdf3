"""Platt calibration on the serving path (numpy only): the map training fits on validation, applied."""

from __future__ import annotations

import numpy as np

# Probabilities are clipped away from 0 and 1 before the logit: float32 trees can return exactly 0 or 1.
LOGIT_EPSILON = 1e-7


def logit(probability: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probability, dtype=np.float64), LOGIT_EPSILON, 1.0 - LOGIT_EPSILON)
    return np.log(p / (1.0 - p))


def calibrate(raw: np.ndarray, a: float, b: float) -> np.ndarray:
    """Platt scaling on the log-odds of the raw probability: sigmoid(a * logit(p) + b)."""
    return 1.0 / (1.0 + np.exp(-(a * logit(raw) + b)))
