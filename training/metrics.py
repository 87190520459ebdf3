"""Held-out metrics shared by the products whose model answers a yes/no question with a probability."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)


def binary_classification(labels: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, Any]:
    """Ranking quality (ROC-AUC, PR-AUC) and, at THRESHOLD, precision, recall, F1 and the confusion
    matrix of PROBABILITY against the 0/1 LABELS, with the base rate and the number of rows."""
    predicted = probability >= threshold
    tn, fp, fn, tp = (int(value) for value in confusion_matrix(labels, predicted, labels=[0, 1]).ravel())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "roc_auc": float(roc_auc_score(labels, probability)),
        "pr_auc": float(average_precision_score(labels, probability)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(2 * precision * recall / (precision + recall)) if precision + recall else 0.0,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "base_rate": float(np.mean(labels)),
        "test_rows": int(len(labels)),
    }


def _thinned(*series: np.ndarray, points: int) -> list[list[float]]:
    """Every series at up to POINTS evenly spaced positions, first and last kept, rounded for a report."""
    picks = np.unique(np.linspace(0, len(series[0]) - 1, min(points, len(series[0]))).round().astype(int))
    return [[round(float(value), 5) for value in values[picks]] for values in series]


def curve_points(labels: np.ndarray, probability: np.ndarray, points: int = 101) -> dict[str, dict[str, list[float]]]:
    """The ROC and precision-recall curves of PROBABILITY against LABELS, thinned to POINTS each, so that a
    report can be drawn by a client (the dashboard) rather than only looked at as a PNG."""
    fpr, tpr, _ = roc_curve(labels, probability)
    precision, recall, _ = precision_recall_curve(labels, probability)
    roc_fpr, roc_tpr = _thinned(fpr, tpr, points=points)
    pr_recall, pr_precision = _thinned(recall[::-1], precision[::-1], points=points)
    return {"roc": {"fpr": roc_fpr, "tpr": roc_tpr}, "pr": {"recall": pr_recall, "precision": pr_precision}}
