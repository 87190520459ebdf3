"""Held-out metrics shared by the products whose model answers a yes/no question with a probability."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score


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
