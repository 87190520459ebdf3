"""A custom model on the serving path: its ONNX graph, its schema and its calibration from the
manifest (onnxruntime and numpy only), loaded once, then pure.

Outputs: binary -> `probability` (the graph's positive-class probability through the Platt map
fitted on validation) and `decision` (probability >= the threshold chosen on validation);
regression -> `value`.

Reasons say which of a record's values moved its score most, model-agnostically: each input column
in turn is set to its reference (the training split's typical value) and the record rescored; the
change is that value's effect. All the perturbed rows of a batch go through the graph in one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from finscore.models.calibration import calibrate
from finscore.models.manifest import Manifest
from finscore.models.onnx import session_from_bytes
from finscore.products.columns import Columns
from finscore.products.custom.schema import DATE, CustomSchema, is_missing

BINARY_OUTPUTS: tuple[tuple[str, str, str], ...] = (
    ("probability", "float", "Calibrated probability of the positive class"),
    ("decision", "bool", "probability >= the decision threshold chosen on validation"),
)
REGRESSION_OUTPUTS: tuple[tuple[str, str, str], ...] = (("value", "float", "The predicted target"),)
MAX_REASONS = 4
# A value that moves a probability by less than this (a hundredth of a point) is no reason.
MIN_PROBABILITY_EFFECT = 1e-4


def outputs_of(task: str) -> tuple[tuple[str, str, str], ...]:
    return BINARY_OUTPUTS if task == "binary" else REGRESSION_OUTPUTS


@dataclass(frozen=True)
class CustomModel:
    """One version of a custom model: what the manifest's extra["model"] and ["schema"] describe."""

    version: str
    task: str
    schema: CustomSchema
    session: Any  # onnxruntime.InferenceSession
    output: str  # the graph output holding probabilities (rows, 2) or values (rows, 1)
    platt: tuple[float, float] | None = None
    threshold: float | None = None
    # How a reason names the outcome: "default = yes".
    outcome: str = ""

    @classmethod
    def load(cls, manifest: Manifest, read: Callable[[str], bytes]) -> CustomModel:
        described = manifest.extra["model"]
        schema = CustomSchema.from_document(manifest.extra["schema"])
        manifest.require_features(schema.feature_names)
        task = described["task"]
        declared = tuple(output.name for output in manifest.outputs)
        if declared != tuple(name for name, _, _ in outputs_of(task)):
            raise ValueError(f"{manifest.product} {manifest.version} declares outputs {list(declared)}; a {task} "
                             f"custom model answers {[name for name, _, _ in outputs_of(task)]}")
        calibration = manifest.extra.get("calibration") or {}
        platt = (float(calibration["a"]), float(calibration["b"])) if calibration.get("method") == "platt" else None
        threshold = manifest.thresholds.get("decision")
        return cls(manifest.version, task, schema, session_from_bytes(read(described["artifact"])),
                   described["output"], platt, float(threshold) if threshold is not None else None,
                   described.get("outcome", ""))

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        """The graph's answer per row: the positive-class probability (binary) or the value."""
        if not len(matrix):
            return np.empty(0)
        features = np.ascontiguousarray(matrix, dtype=np.float32)
        answer = self.session.run([self.output], {self.session.get_inputs()[0].name: features})[0]
        answer = np.asarray(answer, dtype=np.float64)
        return answer[:, 1] if self.task == "binary" else answer.reshape(-1)

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """The calibrated probability (binary) or the value (regression) of each row."""
        raw = self.raw(matrix)
        if self.task == "binary" and self.platt is not None:
            return calibrate(raw, *self.platt)
        return raw

    def predict(self, matrix: np.ndarray, columns: Columns | None = None) -> dict[str, np.ndarray]:
        scores = self.score(matrix)
        if self.task != "binary":
            return {"value": scores}
        threshold = self.threshold if self.threshold is not None else 0.5
        return {"probability": scores, "decision": scores >= threshold}

    def reasons(self, matrix: np.ndarray, columns: Columns | Sequence[Mapping[str, Any]] | None = None,
                k: int = MAX_REASONS) -> list[list[dict[str, Any]]]:
        """Up to K reasons per row of MATRIX, largest effect first: {feature (the input column), value
        (the record's, from COLUMNS when given), reference, effect (score minus the score with the
        reference in its place), text}."""
        rows = len(matrix)
        if not rows:
            return []
        slices = self.schema.feature_slices()
        reference = self.schema.reference_row()
        names = list(slices)
        perturbed = np.repeat(np.asarray(matrix, dtype=np.float32)[None, :, :], len(names) + 1, axis=0)
        for position, name in enumerate(names, start=1):
            perturbed[position][:, slices[name]] = reference[slices[name]]
        scores = self.score(perturbed.reshape(-1, matrix.shape[1])).reshape(len(names) + 1, rows)
        effects = scores[0][None, :] - scores[1:]  # (columns, rows)
        given = self.schema.as_columns(columns)[0] if columns is not None else {}
        floor = MIN_PROBABILITY_EFFECT if self.task == "binary" else 0.0
        answer = []
        for row in range(rows):
            order = np.argsort(-np.abs(effects[:, row]), kind="stable")
            reasons = []
            for index in order[:k].tolist():
                effect = float(effects[index, row])
                if abs(effect) <= floor or not np.isfinite(effect):
                    break
                name = names[index]
                value = self._value(name, given, row, matrix)
                reasons.append({"feature": name, "value": value, "reference": self.schema.column(name).reference,
                                "effect": round(effect, 6), "text": self._text(name, value, effect)})
            answer.append(reasons)
        return answer

    def _value(self, name: str, given: Mapping[str, Any], row: int, matrix: np.ndarray) -> Any:
        """The record's value of column NAME as the record gave it (or as the model saw it)."""
        values = given.get(name)
        if values is not None:
            value = values[row]
            value = value.item() if isinstance(value, np.generic) else value
            if isinstance(value, (date, datetime)):
                return value.isoformat()
            if isinstance(value, float) and value.is_integer():
                return int(value)  # columns hold numbers as floats; 22 was given, not 22.0
            return None if not isinstance(value, (list, dict)) and is_missing(value) else value
        column = self.schema.column(name)
        seen = float(matrix[row, self.schema.feature_slices()[name][0]])
        if not np.isfinite(seen):
            return None
        if column.kind == "categorical":
            return column.levels[int(seen)]
        if column.kind == DATE:
            return str(np.datetime64(int(seen), "D"))
        return seen

    def _text(self, name: str, value: Any, effect: float) -> str:
        reference = self.schema.column(name).reference
        shown = "missing" if value is None else f"{value}"
        if self.task == "binary":
            change = f"{'raises' if effect > 0 else 'lowers'} the probability of {self.outcome or 'the positive class'} " \
                     f"by {abs(effect) * 100:.1f} points"
        else:
            change = f"{'raises' if effect > 0 else 'lowers'} the predicted {self.schema.target or 'value'} by " \
                     f"{abs(effect):.4g}"
        return f"{name} is {shown} (typical: {reference}): {change}"
