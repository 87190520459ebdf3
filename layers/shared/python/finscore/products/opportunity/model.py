"""The opportunity model on the serving path: a random forest regressor as ONNX, loaded once from the
manifest; then pure. Scores are the forest's prediction clipped to 0-100, with their category.

Explanations decompose the forest exactly (Saabas' path decomposition, as treeinterpreter computes
it): in each tree, the step from a node to the child a business goes to changes the node's mean
training target by an amount credited to the feature split on. Summed along the path, the root's
value (the tree's training mean) plus the credits is the leaf's value; averaged over the trees, the
baseline plus every feature's contribution is the forest's prediction. The trees' structure is an
artifact of the version, read on the first explanation only, so scoring never loads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping

import numpy as np
import onnxruntime as ort

from finscore.models.manifest import Manifest
from finscore.models.onnx import session_from_bytes
from finscore.products.opportunity.catalog import HIGH_FROM, MEDIUM_FROM
from finscore.products.opportunity.features import FEATURE_NAMES

OUTPUTS: tuple[tuple[str, str, str], ...] = (
    ("opportunity_score", "float", "Opportunity score 0-100 (the forest's prediction, clipped)"),
    ("category", "str", f"high (>= {HIGH_FROM:g}) | medium (>= {MEDIUM_FROM:g}) | low"),
)


def categories(scores: np.ndarray) -> np.ndarray:
    return np.where(scores >= HIGH_FROM, "high", np.where(scores >= MEDIUM_FROM, "medium", "low")).astype(object)


@dataclass(frozen=True)
class ForestPaths:
    """The trees of a forest as arrays (scikit-learn's layout): per tree, each node's split feature
    (an index into the model inputs), threshold, children (-1 at a leaf) and mean training target."""

    trees: tuple[Mapping[str, np.ndarray], ...]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ForestPaths:
        return cls(tuple({"feature": np.asarray(tree["feature"], dtype=np.int64),
                          "threshold": np.asarray(tree["threshold"], dtype=np.float64),
                          "left": np.asarray(tree["left"], dtype=np.int64),
                          "right": np.asarray(tree["right"], dtype=np.int64),
                          "value": np.asarray(tree["value"], dtype=np.float64)} for tree in document["trees"]))

    def decompose(self, row: np.ndarray) -> tuple[float, np.ndarray, float]:
        """(baseline, contribution of each input, prediction) of one row of model inputs (float32
        values, compared with the thresholds as scikit-learn compares them)."""
        values = np.asarray(row, dtype=np.float32).astype(np.float64)
        contributions = np.zeros(len(values))
        baseline = 0.0
        for tree in self.trees:
            feature, threshold, left, right, value = (tree["feature"], tree["threshold"], tree["left"],
                                                      tree["right"], tree["value"])
            node = 0
            baseline += value[0]
            while left[node] >= 0:
                split = feature[node]
                child = left[node] if values[split] <= threshold[node] else right[node]
                contributions[split] += value[child] - value[node]
                node = child
        count = len(self.trees)
        baseline, contributions = baseline / count, contributions / count
        return baseline, contributions, float(baseline + contributions.sum())


@dataclass(frozen=True)
class OpportunityModel:
    version: str
    forest: ort.InferenceSession
    # Positions in the feature matrix of the columns the forest takes, in its order.
    inputs: tuple[int, ...]
    read: Callable[[str], bytes] = field(repr=False, compare=False)
    explainer_artifact: str = ""

    @classmethod
    def load(cls, manifest: Manifest, read: Callable[[str], bytes]) -> OpportunityModel:
        manifest.require_features(FEATURE_NAMES)
        outputs = tuple(output.name for output in manifest.outputs)
        if outputs != tuple(name for name, _, _ in OUTPUTS):
            raise ValueError(f"opportunity {manifest.version} declares outputs {list(outputs)}, this code answers "
                             f"{[name for name, _, _ in OUTPUTS]}")
        described = manifest.extra["model"]
        names = manifest.feature_names
        return cls(manifest.version, session_from_bytes(read(described["artifact"])),
                   tuple(names.index(name) for name in described["inputs"]), read, described["explainer"])

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(FEATURE_NAMES[index] for index in self.inputs)

    @cached_property
    def paths(self) -> ForestPaths:
        return ForestPaths.from_document(json.loads(self.read(self.explainer_artifact)))

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        """The forest's prediction of each row (before clipping)."""
        if not len(matrix):
            return np.empty(0)
        features = np.ascontiguousarray(matrix[:, self.inputs], dtype=np.float32)
        return self.forest.run(None, {self.forest.get_inputs()[0].name: features})[0].reshape(-1).astype(np.float64)

    def predict(self, matrix: np.ndarray, columns: Any = None) -> dict[str, np.ndarray]:
        scores = np.round(np.clip(self.raw(matrix), 0.0, 100.0), 2)
        return {"opportunity_score": scores, "category": categories(scores)}

    def explain(self, row: np.ndarray) -> dict[str, Any]:
        """One matrix row's score decomposed: baseline (the mean training score), each model input's
        contribution (they sum to the prediction minus the baseline) and the prediction."""
        baseline, contributions, prediction = self.paths.decompose(np.asarray(row)[list(self.inputs)])
        return {"baseline": baseline, "prediction": prediction,
                "contributions": dict(zip(self.input_names, contributions.tolist()))}
