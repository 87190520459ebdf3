"""The leakage guard: columns that give the answer away are refused before any candidate sees them.

A column leaks when, alone, it predicts the target almost perfectly on rows it was not fitted on,
which no honest predictor of a future outcome does: a small decision tree on the column's model
inputs (missing values included, so "present only for defaulters" counts) is fitted on the training
split and scored on validation; binary: max(AUC, 1 - AUC) >= LEAK_AUC, regression: R2 >= LEAK_R2.
For a binary target a column is also refused when it is a deterministic function of the target:
rows whose value is shared by at least MIN_GROUP_ROWS training rows cover at least
DETERMINISTIC_COVERAGE of the split, and the class most of a value's rows hold gives the class of
at least DETERMINISTIC_PURITY of them, in each class (balanced accuracy): a status written after
the outcome, such as "written-off" / "performing", even with a few rows recorded wrongly.

The thresholds are set high on purpose: a strong honest predictor (a bureau score, AUC 0.80-0.90 on
its own) stays; a copy or a consequence of the outcome (0.99+) goes. A user who knows a flagged
column is legitimate keeps it by naming it in the definition's `allow`. Every column's score is
reported, flagged or not.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from finscore.products.custom.schema import CustomSchema

LEAK_AUC = 0.98
LEAK_R2 = 0.98
MIN_GROUP_ROWS = 5
DETERMINISTIC_COVERAGE = 0.95
DETERMINISTIC_PURITY = 0.99
TREE_LEAVES = 32
TREE_MIN_LEAF = 10
RULE = (f"a column alone: a decision tree of at most {TREE_LEAVES} leaves fitted on the training split, scored on "
        f"validation; refused at max(AUC, 1 - AUC) >= {LEAK_AUC} (binary) or R2 >= {LEAK_R2} (regression), or "
        f"(binary) when its repeated values (>= {MIN_GROUP_ROWS} rows each) cover >= {DETERMINISTIC_COVERAGE:.0%} "
        f"of training rows and each value's majority class gives those rows' class with balanced accuracy >= "
        f"{DETERMINISTIC_PURITY:.0%}")


def single_feature_score(task: str, train_x: np.ndarray, train_y: np.ndarray, validation_x: np.ndarray,
                         validation_y: np.ndarray, seed: int) -> float:
    """How well one column's inputs alone predict the target on validation (AUC folded at 0.5, or R2)."""
    if task == "binary":
        tree = DecisionTreeClassifier(max_leaf_nodes=TREE_LEAVES, min_samples_leaf=TREE_MIN_LEAF, random_state=seed)
        tree.fit(train_x, train_y)
        if len(np.unique(validation_y)) < 2:
            return float("nan")
        auc = float(roc_auc_score(validation_y, tree.predict_proba(validation_x)[:, 1]))
        return max(auc, 1.0 - auc)
    tree = DecisionTreeRegressor(max_leaf_nodes=TREE_LEAVES, min_samples_leaf=TREE_MIN_LEAF, random_state=seed)
    tree.fit(train_x, train_y)
    return float(r2_score(validation_y, tree.predict(validation_x)))


def determined_share(values: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(coverage, balanced accuracy): the share of rows whose value (a row of inputs, NaN included)
    repeats at least MIN_GROUP_ROWS times, and how well "the class most rows of that value hold"
    gives each of those rows' class, averaged over the two classes (so a rare class counts as much)."""
    keys = np.where(np.isnan(values), np.inf, values)
    _, groups, sizes = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    groups = groups.reshape(-1)
    positives = np.bincount(groups, weights=labels, minlength=len(sizes))
    covered = (sizes >= MIN_GROUP_ROWS)[groups]
    coverage = float(covered.mean()) if len(groups) else 0.0
    predicted = (positives / sizes >= 0.5)[groups]
    truth = labels.astype(bool)
    recalls = []
    for klass in (True, False):
        members = covered & (truth == klass)
        recalls.append(float(np.mean(predicted[members] == klass)) if members.any() else 0.0)
    return coverage, float(np.mean(recalls))


def leakage_report(schema: CustomSchema, task: str, train_x: np.ndarray, train_y: np.ndarray,
                   validation_x: np.ndarray, validation_y: np.ndarray, *, allow: Sequence[str],
                   seed: int) -> list[dict[str, Any]]:
    """One entry per input column of SCHEMA: its single-feature score and whether it leaks."""
    metric = "auc" if task == "binary" else "r2"
    threshold = LEAK_AUC if task == "binary" else LEAK_R2
    report = []
    for name, positions in schema.feature_slices().items():
        score = single_feature_score(task, train_x[:, positions], train_y, validation_x[:, positions], validation_y,
                                     seed)
        entry: dict[str, Any] = {"column": name, "metric": metric, "score": round(score, 4), "leaks": False,
                                 "allowed": False, "reason": ""}
        reasons = []
        if score >= threshold:
            reasons.append(f"alone it predicts the target almost perfectly on validation ({metric} {score:.3f} >= "
                           f"{threshold})")
        if task == "binary":
            coverage, accuracy = determined_share(train_x[:, positions], train_y)
            entry["determined"] = {"coverage": round(coverage, 4), "balanced_accuracy": round(accuracy, 4)}
            if coverage >= DETERMINISTIC_COVERAGE and accuracy >= DETERMINISTIC_PURITY:
                reasons.append(f"a deterministic function of the target: each value's majority class gives the "
                               f"class of {accuracy:.1%} of training rows (balanced, {coverage:.0%} of rows covered)")
        if reasons:
            entry["allowed"] = name in allow
            entry["leaks"] = not entry["allowed"]
            entry["reason"] = "; ".join(reasons) + ("; kept: the definition allows it" if entry["allowed"] else "")
        report.append(entry)
    return report


def leaking_columns(report: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {entry["column"]: f"leakage: {entry['reason']}" for entry in report if entry["leaks"]}
