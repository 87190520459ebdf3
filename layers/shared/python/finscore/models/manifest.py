"""The model manifest: the contract between training, serving, batch scoring and drift.

Training writes it last, after every artifact it lists; serving refuses a version whose manifest or
artifacts do not check out. Feature order here is the order of the model's input tensor.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_NAME = "manifest.json"


class FeatureSpec(BaseModel):
    name: str
    type: Literal["float", "int", "category", "bool"] = "float"
    description: str = ""
    categories: list[str] | None = None
    # The feature's domain: a value outside it is refused wherever features are given as they are.
    minimum: float | None = None
    maximum: float | None = None

    def issue(self, value: float) -> str | None:
        """What is wrong with VALUE for this feature (None: nothing): not finite, not a whole number
        for a count, not 0 or 1 for a flag, outside [minimum, maximum]."""
        if not math.isfinite(value):
            return "must be a finite number"
        if self.type == "bool" and value not in (0, 1):
            return "must be 0 or 1"
        if self.type == "int" and value != int(value):
            return "must be a whole number"
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                return f"must be at least {low:g}"
            return f"must be at most {high:g}" if low is None else f"must be between {low:g} and {high:g}"
        return None


class OutputSpec(BaseModel):
    name: str
    type: str
    description: str = ""


class ArtifactEntry(BaseModel):
    sha256: str
    bytes: int
    format: Literal["onnx", "native", "json", "png", "csv", "parquet", "markdown"]
    # lineage: what the version was fitted on (the promotion gate's fitted rows); parity: held-out
    # feature rows a native scorer is checked on against the serving model when it is loaded
    role: Literal["serving", "native", "report", "baseline", "lineage", "parity"]


class ParityResult(BaseModel):
    """ONNX against the native model on the held-out set; a version that fails is never registered.

    The rule's numbers are kept with the result, so that the native model can be held to the same
    rule wherever it is loaded: |ONNX - native| within TOLERANCE on at least MIN_SHARE_WITHIN_TOLERANCE
    of rows and within MAX_ABS_DIFF_ALL_ROWS (default: TOLERANCE) on every row, and labels identical
    on at least MIN_LABEL_AGREEMENT of rows.
    """

    passed: bool
    rows: int
    rule: str
    max_abs_diff: float = 0.0
    tolerance: float = 0.0
    min_share_within_tolerance: float = 1.0
    max_abs_diff_all_rows: float | None = None
    label_agreement: float = 1.0
    min_label_agreement: float = 1.0
    per_model: dict[str, dict[str, float]] = Field(default_factory=dict)


class TrainingDataRef(BaseModel):
    reference: str
    rows: int
    seed: int | None = None
    split: dict[str, int] = Field(default_factory=dict)
    # What the data held that training did not use, by reason (e.g. transactions after the as-of date).
    excluded: dict[str, int] = Field(default_factory=dict)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: str
    version: str
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    features: list[FeatureSpec]
    outputs: list[OutputSpec]
    # Held-out metrics (test split, never seen in fitting or model selection).
    metrics: dict[str, Any]
    primary_metric: str
    higher_is_better: bool = True
    thresholds: dict[str, Any] = Field(default_factory=dict)
    # The hyperparameters the chosen model was fitted with (and how they were chosen).
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    training_data: TrainingDataRef
    artifacts: dict[str, ArtifactEntry] = Field(default_factory=dict)
    library_versions: dict[str, str] = Field(default_factory=dict)
    parity: ParityResult
    # Product-specific serving metadata (segment names, class labels, catalogues).
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return [feature.name for feature in self.features]

    def require_features(self, names: tuple[str, ...] | list[str]) -> None:
        """ValueError unless the model was trained on exactly NAMES, in that order (what this code computes)."""
        if tuple(self.feature_names) != tuple(names):
            raise ValueError(f"{self.product} {self.version} was trained on features {self.feature_names}, "
                             f"but this code computes {list(names)}")

    @property
    def primary_value(self) -> float:
        return float(self.metrics[self.primary_metric])

    def prefix(self) -> str:
        return f"{self.product}/{self.version}/"
