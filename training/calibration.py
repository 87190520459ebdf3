"""Fitting the Platt calibration that finscore.models.calibration applies at serving time."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from finscore.models.calibration import logit


def fit_platt(raw: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling of raw probabilities: (a, b) of sigmoid(a * logit(p) + b), by logistic regression.
    A slope that is not positive would turn the model's ranking upside down: it is refused."""
    regression = LogisticRegression(C=1e6, max_iter=1_000).fit(logit(raw).reshape(-1, 1), labels)
    a, b = float(regression.coef_[0, 0]), float(regression.intercept_[0])
    if not a > 0:
        raise ValueError(f"Calibration refused: the Platt slope on validation is {a:.4g}, so higher raw scores "
                         "would mean a lower probability; the model does not rank the validation rows")
    return a, b
