"""A user's table and definition as a product of the shared training pipeline (training.pipeline.Product).

    table -> profile (target, column kinds, row rejects) -> split 70/15/15 (by time with an as-of
    column) -> schema from the training split -> leakage guard -> baseline and boosting -> choice on
    validation -> Platt calibration and threshold on validation -> held-out metrics of both on test
    -> ONNX + parity -> model card

One CustomProduct trains one version: validate() profiles the table and fit() fixes the schema, which
feature_matrix() (the drift baseline) and the card then use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from finscore.models.calibration import calibrate
from finscore.models.manifest import Manifest, OutputSpec, ParityResult
from finscore.models.onnx import PROBABILITY_OUTPUT
from finscore.models.store import Artifact
from finscore.products.custom.definition import CustomDefinition
from finscore.products.custom.model import CustomModel, outputs_of
from finscore.products.custom.schema import (
    BOOLEAN,
    CATEGORICAL,
    DATE,
    MISSING,
    NUMERIC,
    OTHER,
    ColumnSchema,
    CustomSchema,
    category_text,
    iso_date,
    parse_date,
    parse_values,
)
from finscore.records import RowReject
from training.calibration import fit_platt
from training.custom.candidates import (
    BASELINE,
    Candidate,
    NoSignal,
    choose,
    fit_baseline,
    fit_boosting,
    primary_metric,
    raw_scores,
)
from training.custom.evaluation import (
    BINARY_METRICS,
    REGRESSION_METRICS,
    THRESHOLD_RULE,
    calibration_table,
    difference_interval,
    ks_threshold,
    metrics_with_intervals,
    permutation_importance,
)
from training.custom.leakage import RULE as LEAKAGE_RULE
from training.custom.leakage import leakage_report, leaking_columns
from training.custom.profiling import CustomTableError, TableProfile, profile_table
from training.data import TrainingData, row_rejects
from training.onnx_export import onnx_outputs, to_onnx
from training.pipeline import SPLIT, ModelDescription, TrainingDataError, split_records

MODEL_ARTIFACT = "model.onnx"
# skl2onnx and onnxmltools both name a regressor's output so.
VALUE_OUTPUT = "variable"
CARD_JSON, CARD_MARKDOWN = "model_card.json", "model_card.md"
# A categorical level is kept when at least this share of training rows (and MIN_LEVEL_ROWS) hold it;
# the rest are pooled into OTHER. At most MAX_LEVELS levels are kept, the most frequent.
MIN_LEVEL_SHARE = 0.01
MIN_LEVEL_ROWS = 10
MAX_LEVELS = 50
# Levels are ordered by their training target mean, shrunk toward the overall mean by this many rows.
LEVEL_SMOOTHING = 10
PARITY_TOLERANCE = 1e-4
MIN_DECISION_AGREEMENT = 0.995
PARITY_RULE = (f"on the held-out test split, the ONNX graph against the native model: |difference| <= "
               f"{PARITY_TOLERANCE:g} x (1 + |native|) on every row (probability or value); decisions at the "
               f"threshold identical on >= {MIN_DECISION_AGREEMENT:.1%} of rows")


@dataclass
class FittedCustom:
    schema: CustomSchema
    chosen: Candidate
    baseline: Candidate
    boosting: Candidate
    selection: dict[str, Any]
    leakage: list[dict[str, Any]]
    # Per candidate (binary): the Platt map and the threshold, both fitted on validation.
    platt: dict[str, tuple[float, float]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    split: dict[str, int] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)


def records_of(data: Any) -> list[Mapping[str, Any]]:
    """Records from a list of dicts, users' files (training.data.TrainingData), or a table with
    `to_dict("records")` (pandas) or `to_pylist()` (Arrow)."""
    if isinstance(data, TrainingData):
        return list(data.records)
    if hasattr(data, "to_dict"):
        return list(data.to_dict("records"))
    if hasattr(data, "to_pylist"):
        return list(data.to_pylist())
    return list(data)


class CustomProduct:
    """A custom model's trainer and product for training.pipeline.train_product."""

    higher_is_better = True
    default_rows = 0
    # Each version's schema (levels, columns) comes from its own training data, and serving_outputs
    # scores raw rows with the version's own schema: the promotion gate may compare across schemas.
    schema_per_version = True
    libraries = ("numpy", "scikit-learn", "xgboost", "skl2onnx", "onnxmltools", "onnx", "onnxruntime")

    def __init__(self, definition: CustomDefinition, data: Any = None, *, reference: str | None = None):
        self.definition = definition
        self.name = definition.key
        self.primary_metric = primary_metric(definition.task)
        self.records = records_of(data) if data is not None else None
        # Users' files: rejects are then reported by file and row, with the rows the reader refused.
        self.files = data if isinstance(data, TrainingData) else None
        if reference is None and self.files is not None:
            reference = self.files.reference
        self.reference = reference or (f"provided: {len(self.records)} records" if self.records is not None else None)
        self.profile: TableProfile | None = None
        self.schema: CustomSchema | None = None
        self.rows_in = 0

    @property
    def task(self) -> str:
        return self.definition.task

    def generate(self, rows: int, seed: int) -> list[dict[str, Any]]:
        raise TrainingDataError(f"{self.name}: a custom model trains on the user's own table only; there is no "
                                f"synthetic data (put files under {self.definition.data_prefix})")

    def validate(self, records: Sequence[Any]) -> tuple[list[dict[str, Any]], list[RowReject]]:
        self.rows_in = len(records)
        valid, self.profile = profile_table(self.definition, records)
        return valid, self.profile.rejects

    def split(self, records: Sequence[dict[str, Any]], seed: int) -> tuple[list, list, list]:
        """70/15/15: by time when the definition names an as-of column (oldest rows train, newest test),
        a seeded shuffle otherwise."""
        if not self.definition.as_of_column:
            return split_records(records, seed)
        stamps = np.array([parse_date(record[self.definition.as_of_column]) for record in records])
        order = np.argsort(stamps, kind="stable")
        train_end = int(round(len(records) * SPLIT[0]))
        validation_end = train_end + int(round(len(records) * SPLIT[1]))
        return tuple([records[int(i)] for i in part]  # type: ignore[return-value]
                     for part in np.split(order, [train_end, validation_end]))

    def labels(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        target = self.definition.target
        return np.fromiter((float(record[target]) for record in records), dtype=np.float64, count=len(records))

    def fit(self, train: Sequence[Mapping[str, Any]], validation: Sequence[Mapping[str, Any]], *, seed: int,
            config: Mapping[str, Any]) -> FittedCustom:
        task, monotone = self.task, dict(self.definition.monotone)
        train_y, validation_y = self.labels(train), self.labels(validation)
        if task == "binary" and len(np.unique(validation_y)) < 2:
            raise CustomTableError(["validation: the validation split holds one class only; more rows of the "
                                    "rarer class are needed"])
        every = build_schema(self.definition, self.profile, train, train_y)
        report = leakage_report(every, task, every.matrix(train), train_y, every.matrix(validation), validation_y,
                                allow=self.definition.allow, seed=seed)
        schema = without(every, leaking_columns(report))
        if not schema.columns:
            raise CustomTableError(["columns: no usable column is left ("
                                    + "; ".join(f"{name}: {reason}" for name, reason in schema.ignored.items()
                                                if name != self.definition.target) + ")"])
        self.schema = schema
        train_x, validation_x = schema.matrix(train), schema.matrix(validation)
        monotone = {name: direction for name, direction in monotone.items() if name in schema.names}
        baseline = fit_baseline(schema, task, train_x, train_y, validation_x, validation_y, monotone=monotone)
        boosting = fit_boosting(schema, task, train_x, train_y, validation_x, validation_y, monotone=monotone,
                                seed=seed, config=config)
        try:
            chosen, selection = choose(baseline, boosting, task, validation_y, validation_x)
        except NoSignal as exc:
            raise CustomTableError([str(exc)]) from exc
        fitted = FittedCustom(schema, chosen, baseline, boosting, selection, report,
                              split={"train": len(train), "validation": len(validation)})
        if task == "binary":
            for candidate in (baseline, boosting):
                raw = raw_scores(candidate.model, validation_x, task)
                try:
                    fitted.platt[candidate.name] = fit_platt(raw, validation_y)
                except ValueError as exc:  # the candidate does not rank validation: nothing to calibrate
                    if candidate is chosen:
                        raise CustomTableError([f"calibration: {exc}: the columns do not predict the target"]) from exc
                    fitted.platt[candidate.name] = (1.0, 0.0)
                    candidate.note = f"uncalibrated (not served): {exc}"
                calibrated = calibrate(raw, *fitted.platt[candidate.name])
                fitted.thresholds[candidate.name] = ks_threshold(validation_y, calibrated)
        return fitted

    def scores(self, fitted: FittedCustom, candidate: Candidate, matrix: np.ndarray) -> np.ndarray:
        """What CANDIDATE serves for MATRIX: the calibrated probability, or the value."""
        raw = raw_scores(candidate.model, matrix, self.task)
        return calibrate(raw, *fitted.platt[candidate.name]) if self.task == "binary" else raw

    def evaluate(self, fitted: FittedCustom, test: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        task, metric = self.task, self.primary_metric
        matrix, labels = fitted.schema.matrix(test), self.labels(test)
        measured = {}
        for candidate in (fitted.baseline, fitted.boosting):
            measured[candidate.name] = metrics_with_intervals(task, labels, self.scores(fitted, candidate, matrix),
                                                              fitted.thresholds.get(candidate.name))
        if fitted.chosen is not fitted.baseline and fitted.baseline.eligible \
                and measured[fitted.chosen.name][metric] < measured[BASELINE][metric]:
            # Boosting won on validation but lost on the held-out rows: the baseline serves, so that the
            # model served is never worse on held-out data than the baseline it is reported against.
            fitted.selection = {**fitted.selection, "chosen": BASELINE, "held_out_fallback": (
                f"boosting was chosen on validation but its held-out {metric} "
                f"({measured[fitted.chosen.name][metric]:.4f}) is below the baseline's "
                f"({measured[BASELINE][metric]:.4f}): the baseline is served. The test rows thus took part in "
                "this one choice between two models; read the baseline's held-out figures as very slightly "
                "optimistic")}
            fitted.chosen = fitted.baseline
        chosen, baseline = measured[fitted.chosen.name], measured[BASELINE]
        served = self.scores(fitted, fitted.chosen, matrix)
        difference = chosen[metric] - baseline[metric]
        comparison = {
            "metric": metric, "rows": int(len(labels)), "chosen": fitted.chosen.name,
            "chosen_value": chosen[metric], "baseline_value": baseline[metric], "difference": round(difference, 6),
            "interval": difference_interval(task, metric, labels, served,
                                            self.scores(fitted, fitted.baseline, matrix)),
            "chosen_not_worse": difference >= 0,
            "note": comparison_note(fitted.chosen.name, metric, difference, fitted.selection.get("held_out_fallback")),
        }
        function = (BINARY_METRICS if task == "binary" else REGRESSION_METRICS)[metric]
        fitted.evaluation = {
            "comparison": comparison,
            "candidates": {name: {"algorithm": candidate.algorithm, "validation": candidate.validation,
                                  "test": measured[name], "eligible": candidate.eligible, "note": candidate.note}
                           for name, candidate in ((BASELINE, fitted.baseline), ("boosting", fitted.boosting))},
            "calibration_table": calibration_table(labels, served),
            "importance": permutation_importance(lambda rows: self.scores(fitted, fitted.chosen, rows), function,
                                                 matrix, labels, fitted.schema.feature_slices()),
        }
        fitted.split["test"] = len(test)
        return {**chosen, "chosen": fitted.chosen.name, "baseline": baseline, "comparison": comparison}

    def report(self, fitted: FittedCustom, test: Sequence[Mapping[str, Any]],
               metrics: Mapping[str, Any]) -> dict[str, Artifact]:
        from training.custom.card import card_markdown, model_card

        card = model_card(self, fitted, metrics)
        return {CARD_JSON: Artifact(json.dumps(card, indent=2, default=str).encode(), "json", "report"),
                CARD_MARKDOWN: Artifact(card_markdown(card).encode(), "markdown", "report")}

    def export_onnx(self, fitted: FittedCustom) -> dict[str, Artifact]:
        graph = to_onnx(fitted.chosen.model, len(fitted.schema.feature_names))
        return {MODEL_ARTIFACT: Artifact(graph.SerializeToString(), "onnx", "serving")}

    @property
    def output_name(self) -> str:
        return PROBABILITY_OUTPUT if self.task == "binary" else VALUE_OUTPUT

    def parity(self, fitted: FittedCustom, artifacts: Mapping[str, Artifact],
               test: Sequence[Mapping[str, Any]]) -> ParityResult:
        matrix = fitted.schema.matrix(test)
        native = raw_scores(fitted.chosen.model, matrix, self.task)
        served = onnx_outputs(artifacts[MODEL_ARTIFACT].data, matrix, [self.output_name])[0]
        served = np.asarray(served, dtype=np.float64)
        served = served[:, 1] if self.task == "binary" else served.reshape(-1)
        relative = np.abs(served - native) / (1.0 + np.abs(native))
        worst = float(relative.max()) if len(relative) else 0.0
        agreement = 1.0
        if self.task == "binary" and len(matrix):
            platt, threshold = fitted.platt[fitted.chosen.name], fitted.thresholds[fitted.chosen.name]
            decisions = [calibrate(scores, *platt) >= threshold for scores in (served, native)]
            agreement = float(np.mean(decisions[0] == decisions[1]))
        passed = worst <= PARITY_TOLERANCE and agreement >= MIN_DECISION_AGREEMENT
        return ParityResult(passed=passed, rows=len(matrix), rule=PARITY_RULE, max_abs_diff=worst,
                            tolerance=PARITY_TOLERANCE, label_agreement=agreement,
                            min_label_agreement=MIN_DECISION_AGREEMENT if self.task == "binary" else 1.0,
                            per_model={fitted.chosen.name: {"max_abs_diff": worst, "tolerance": PARITY_TOLERANCE}})

    def outcome(self) -> str:
        labels = self.profile.labels if self.profile else {}
        return f"{self.definition.target} = {labels.get('positive', 1)}" if self.task == "binary" else ""

    def describe(self, fitted: FittedCustom) -> ModelDescription:
        task = self.task
        thresholds: dict[str, Any] = {}
        extra: dict[str, Any] = {
            "model": {"artifact": MODEL_ARTIFACT, "task": task, "chosen": fitted.chosen.name,
                      "algorithm": fitted.chosen.algorithm,
                      "output": self.output_name,
                      "outcome": self.outcome()},
            "schema": fitted.schema.document(),
            "definition": self.definition.model_dump(mode="json"),
            "target": self.profile.labels if self.profile else {},
            "columns": self.column_reports(fitted),
            "leakage": {"rule": LEAKAGE_RULE, "columns": fitted.leakage},
            "selection": fitted.selection,
            "candidates": fitted.evaluation.get("candidates", {}),
            "baseline": fitted.evaluation.get("candidates", {}).get(BASELINE, {}).get("test"),
            "comparison": fitted.evaluation.get("comparison"),
            "importance": {"method": "permutation on the test split (held-out primary metric lost)",
                           "columns": fitted.evaluation.get("importance", {})},
            "rows": self.row_counts(fitted),
            "card": {"json": CARD_JSON, "markdown": CARD_MARKDOWN},
        }
        if task == "binary":
            a, b = fitted.platt[fitted.chosen.name]
            thresholds = {"decision": fitted.thresholds[fitted.chosen.name], "rule": THRESHOLD_RULE}
            extra["calibration"] = {"method": "platt", "a": a, "b": b, "fitted_on": "validation",
                                    "table": fitted.evaluation.get("calibration_table", [])}
        else:
            extra["calibration"] = {"method": None, "table": fitted.evaluation.get("calibration_table", [])}
        return ModelDescription(
            features=fitted.schema.specs,
            outputs=[OutputSpec(name=name, type=kind, description=text) for name, kind, text in outputs_of(task)],
            thresholds=thresholds,
            hyperparameters={"candidate": fitted.chosen.name, "algorithm": fitted.chosen.algorithm,
                             **fitted.chosen.parameters},
            extra=extra,
        )

    def column_reports(self, fitted: FittedCustom) -> list[dict[str, Any]]:
        """Every column of the table: its kind, whether the model uses it, and why (or why not)."""
        scores = {entry["column"]: entry for entry in fitted.leakage}
        reports = []
        for column in self.profile.columns if self.profile else ():
            entry = column.document()
            if column.used and column.name not in fitted.schema.names:  # refused in fit: leakage, no value
                entry.update(used=False, kind="refused", reason=fitted.schema.ignored[column.name])
            if column.name in scores:
                entry["single_feature_score"] = scores[column.name]["score"]
            reports.append(entry)
        return reports

    def rejects(self) -> list[RowReject]:
        """Every row not trained on: by file and row for users' files, by record index otherwise."""
        refused = self.profile.rejects if self.profile else []
        return row_rejects(self.files, refused) if self.files is not None else list(refused)

    def row_counts(self, fitted: FittedCustom) -> dict[str, int]:
        unread = len(self.files.rejects) if self.files is not None else 0
        rejected = len(self.profile.rejects) if self.profile else 0
        return {"in": self.rows_in + unread, "rejected": rejected + unread, "used": self.rows_in - rejected,
                **fitted.split}

    def gate_metrics(self, outputs: Mapping[str, np.ndarray], test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        """The primary metric of the served outputs on labelled rows (the promotion gate's yardstick)."""
        served = outputs["probability"] if self.task == "binary" else outputs["value"]
        function = (BINARY_METRICS if self.task == "binary" else REGRESSION_METRICS)[self.primary_metric]
        return {self.primary_metric: function(self.labels(test), np.asarray(served, dtype=np.float64))}

    def feature_matrix(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        if self.schema is None:
            raise RuntimeError(f"{self.name}: the schema is fixed by fit(); nothing was fitted yet")
        return self.schema.matrix(records)

    def serving_outputs(self, manifest: Manifest, read: Callable[[str], bytes],
                        test: Sequence[Mapping[str, Any]]) -> Mapping[str, np.ndarray]:
        model = CustomModel.load(manifest, read)
        return model.predict(model.schema.matrix(test))

    def record_key(self, record: Mapping[str, Any]) -> str:
        """Which rows are the same for the promotion gate: the id when the table has one, else the row."""
        if self.definition.id_column and record.get(self.definition.id_column) is not None:
            return str(record[self.definition.id_column])
        return json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))


def comparison_note(chosen: str, metric: str, difference: float, fallback: str | None = None) -> str:
    if fallback:
        return fallback
    if chosen == BASELINE:
        return "the baseline was chosen on validation; it is the model served"
    if difference >= 0:
        return f"boosting was chosen on validation and is not worse than the baseline on test ({metric} {difference:+.4f})"
    return (f"boosting was chosen on validation (clearly better there) but is worse than the baseline on the test "
            f"rows ({metric} {difference:+.4f}); the choice is not revisited on test, which would make the test "
            "result a second validation. Treat the difference with its interval")


def build_schema(definition: CustomDefinition, profile: TableProfile, train: Sequence[Mapping[str, Any]],
                 labels: np.ndarray) -> CustomSchema:
    """The schema of every column the profile kept, its levels, ranges and references from TRAIN."""
    columns = []
    ignored = {column.name: column.reason for column in profile.columns if not column.used}
    for name, kind in profile.kinds().items():
        values = np.array([record.get(name) for record in train], dtype=object)
        if kind == CATEGORICAL:
            columns.append(categorical_column(name, values, labels))
            continue
        parsed, _ = parse_values(values, kind)
        known = parsed[np.isfinite(parsed)]
        if not len(known):  # e.g. a column recorded only lately, with a split by time
            ignored[name] = "no value in the training split"
            continue
        if kind == BOOLEAN:
            reference = bool(np.mean(known) >= 0.5) if len(known) else False
            columns.append(ColumnSchema(name, BOOLEAN, reference=reference, monotone=definition.monotone.get(name, 0)))
        elif kind == DATE:
            columns.append(ColumnSchema(name, DATE, reference=iso_date(float(np.median(known))),
                                        minimum=float(known.min()), maximum=float(known.max()), range_checked=True))
        else:
            columns.append(ColumnSchema(name, NUMERIC, reference=round(float(np.median(known)), 6),
                                        minimum=float(known.min()), maximum=float(known.max()),
                                        range_checked=name in definition.monotone,
                                        monotone=definition.monotone.get(name, 0)))
    return CustomSchema(tuple(columns), ignored, definition.target, definition.id_column)


def categorical_column(name: str, values: np.ndarray, labels: np.ndarray) -> ColumnSchema:
    """Frequent levels kept, rare ones pooled into OTHER, missing as MISSING; ordered by the training
    target mean (shrunk toward the overall mean), so that a tree's splits on the code are meaningful."""
    texts = np.array([category_text(value) for value in values], dtype=object)
    texts = np.array([MISSING if text is None else text for text in texts], dtype=object)
    levels, counts = np.unique(texts.astype(str), return_counts=True)
    floor = max(MIN_LEVEL_ROWS, MIN_LEVEL_SHARE * len(values))
    frequent = [(count, level) for level, count in zip(levels.tolist(), counts.tolist())
                if count >= floor and level not in (MISSING, OTHER)]
    kept = {level for _, level in sorted(frequent, reverse=True)[:MAX_LEVELS]}
    pooled = np.array([text if text in kept or text == MISSING else OTHER for text in texts.astype(str)], dtype=object)
    overall = float(labels.mean()) if len(labels) else 0.0

    def smoothed_mean(level: str) -> float:
        members = pooled == level
        return float((labels[members].sum() + overall * LEVEL_SMOOTHING) / (members.sum() + LEVEL_SMOOTHING))

    ordered = sorted([*kept, OTHER, MISSING], key=lambda level: (smoothed_mean(level), level))
    present = [text for text in pooled if text != MISSING]
    reference = max(set(present), key=lambda level: (present.count(level), level)) if present else MISSING
    return ColumnSchema(name, CATEGORICAL, reference=str(reference), levels=tuple(str(level) for level in ordered))


def without(schema: CustomSchema, refused: Mapping[str, str]) -> CustomSchema:
    """SCHEMA without the REFUSED columns, which join its ignored columns with their reasons."""
    return CustomSchema(tuple(column for column in schema.columns if column.name not in refused),
                        {**schema.ignored, **refused}, schema.target, schema.id_column)
