"""Held-out measurements of a custom model: metrics with bootstrap intervals, the calibration table,
the threshold rule and permutation importance.

Intervals are 95% percentile intervals over BOOTSTRAP_SAMPLES resamples of the test rows
(training.gate.bootstrap_interval); every model is resampled with the same seed, so the chosen
model's and the baseline's intervals come from the same resampled rows, as does the interval of
their difference.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Mapping

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
    roc_curve,
)

from training.gate import bootstrap_interval
from training.metrics import binary_classification

BOOTSTRAP_SAMPLES = 200
CALIBRATION_BINS = 10
PERMUTATION_REPEATS = 3
THRESHOLD_RULE = ("KS-optimal on validation: the calibrated probability that maximises true positive rate minus "
                  "false positive rate (Youden's J) on the validation split")


def ks_statistic(labels: np.ndarray, probability: np.ndarray) -> float:
    """The Kolmogorov-Smirnov distance between the score distributions of the two classes."""
    fpr, tpr, _ = roc_curve(labels, probability)
    return float(np.max(tpr - fpr))


def ks_threshold(labels: np.ndarray, probability: np.ndarray) -> float:
    """THRESHOLD_RULE."""
    fpr, tpr, thresholds = roc_curve(labels, probability)
    best = int(np.argmax(tpr - fpr))
    return float(min(thresholds[best], 1.0))


def expected_calibration_error(labels: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """The mean gap between predicted probability and observed rate over equal-size bins, weighted by rows."""
    order = np.argsort(probability, kind="stable")
    groups = [group for group in np.array_split(order, min(bins, len(order))) if len(group)]
    return float(sum(len(group) * abs(probability[group].mean() - labels[group].mean()) for group in groups)
                 / max(len(order), 1))


BINARY_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "roc_auc": lambda y, p: float(roc_auc_score(y, p)),
    "pr_auc": lambda y, p: float(average_precision_score(y, p)),
    "brier": lambda y, p: float(brier_score_loss(y, p)),
    "log_loss": lambda y, p: float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
    "ks": ks_statistic,
    # Calibration on the held-out rows: the binned gap, and the mean probability minus the observed rate.
    "ece": expected_calibration_error,
    "calibration_gap": lambda y, p: float(np.mean(p) - np.mean(y)),
}
REGRESSION_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "r2": lambda y, v: float(r2_score(y, v)),
    "mae": lambda y, v: float(mean_absolute_error(y, v)),
    "rmse": lambda y, v: float(np.sqrt(mean_squared_error(y, v))),
}
LOWER_IS_BETTER = frozenset({"brier", "log_loss", "mae", "rmse", "ece"})


def metrics_with_intervals(task: str, labels: np.ndarray, scores: np.ndarray,
                           threshold: float | None = None) -> dict[str, Any]:
    """TASK's held-out metrics of SCORES against LABELS, each with its bootstrap interval; binary also
    the confusion matrix, precision, recall and F1 at THRESHOLD (training.metrics)."""
    functions = BINARY_METRICS if task == "binary" else REGRESSION_METRICS
    measured: dict[str, Any] = {name: function(labels, scores) for name, function in functions.items()}
    if task == "binary":
        measured.update(binary_classification(labels, scores, threshold if threshold is not None else 0.5))
        measured["threshold"] = threshold
    else:
        measured["test_rows"] = int(len(labels))
    intervals = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a resample with one class has no AUC; it is skipped
        for name, function in functions.items():
            interval = bootstrap_interval(lambda rows: function(labels[rows], scores[rows]), len(labels),
                                          samples=BOOTSTRAP_SAMPLES, seed=0)
            intervals[name] = [round(value, 6) for value in interval] if interval else None
    measured["intervals"] = intervals
    return measured


def difference_interval(task: str, metric: str, labels: np.ndarray, chosen: np.ndarray,
                        baseline: np.ndarray) -> list[float] | None:
    """The 95% interval of the chosen model's METRIC minus the baseline's on the same resampled rows."""
    function = (BINARY_METRICS if task == "binary" else REGRESSION_METRICS)[metric]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interval = bootstrap_interval(lambda rows: function(labels[rows], chosen[rows]) - function(labels[rows],
                                                                                                   baseline[rows]),
                                      len(labels), samples=BOOTSTRAP_SAMPLES, seed=0)
    return [round(value, 6) for value in interval] if interval else None


def calibration_table(labels: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict[str, Any]]:
    """Test rows in BINS groups of equal size by predicted probability: each group's range, mean
    predicted probability and observed positive rate."""
    order = np.argsort(probability, kind="stable")
    table = []
    for group in np.array_split(order, min(bins, len(order))):
        if not len(group):
            continue
        predicted = probability[group]
        table.append({"rows": int(len(group)), "from": round(float(predicted.min()), 6),
                      "to": round(float(predicted.max()), 6), "mean_predicted": round(float(predicted.mean()), 6),
                      "observed_rate": round(float(labels[group].mean()), 6)})
    return table


def permutation_importance(score: Callable[[np.ndarray], np.ndarray], metric: Callable[[np.ndarray, np.ndarray], float],
                           matrix: np.ndarray, labels: np.ndarray, slices: Mapping[str, list[int]], *,
                           seed: int = 0, repeats: int = PERMUTATION_REPEATS) -> dict[str, float]:
    """Per input column (all its model inputs shuffled together): the held-out METRIC lost when its
    values are shuffled across rows, averaged over REPEATS shuffles; largest first."""
    rng = np.random.default_rng(seed)
    base = metric(labels, score(matrix))
    lost = {}
    for name, positions in slices.items():
        drops = []
        for _ in range(repeats):
            shuffled = matrix.copy()
            shuffled[:, positions] = matrix[rng.permutation(len(matrix))][:, positions]
            drops.append(base - metric(labels, score(shuffled)))
        lost[name] = round(float(np.mean(drops)), 6)
    return dict(sorted(lost.items(), key=lambda item: -item[1]))
