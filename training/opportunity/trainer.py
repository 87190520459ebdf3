"""opportunity's trainer: this module satisfies training.pipeline.Trainer.

Rows are (business, month) observations (training.opportunity.generator): the business's revenue,
age and rating, its location's sentiment_score that month and that month's inflation_rate and
interest_rate, labelled with the opportunity score 0-100. The synthetic label is a documented
function of those factors plus Gaussian noise (sd 3; generator.target), so held-out metrics say how
much of a known function a bounded forest recovers, not how markets behave.

Model: scikit-learn's RandomForestRegressor, its size bounded (N_ESTIMATORS trees of depth at most
MAX_DEPTH, leaves of at least MIN_SAMPLES_LEAF rows) so that the ONNX graph stays small (about
330 KB at the defaults; an unbounded forest on 100k rows exports at hundreds of MB) and batch files
score fast: more trees barely lower the error (25 trees: held-out MSE 11.86 against 12.01) and cost
their time in every row scored. Two candidates are fitted: on the six
factors, and on the six plus business_type; business_type is kept only when it lowers the
validation MSE by more than TYPE_GAIN (relative). Both candidates' validation and held-out metrics
go into the manifest. Held-out metrics: MSE, RMSE, MAE, R2; feature importances: impurity (the
forest's mean decrease) and permutation (held-out R2 lost when a feature's values are shuffled).

Explanations: the trees' structure (children, split features, thresholds and every node's mean
training score) is an artifact of the version; serving decomposes a business's score along its
paths (finscore.products.opportunity.model.ForestPaths), which sums to the prediction exactly.

Users' own data (training/opportunity/ in the data bucket): CSV, JSON Lines, Parquet or Excel (.xlsx),
one observed business a row: business_type (one of the catalogue's, common spellings accepted),
revenue (annual, INR), age (years), rating (1-5), sentiment_score (-1..1, the mean VADER compound of
its location's reviews), inflation_rate and interest_rate (percent), opportunity_score (the label,
0-100); business_id, location and month are kept when given and not used. A row that is not valid is
rejected with its file, row and reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from pydantic import ValidationError
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from finscore.models.manifest import OutputSpec, ParityResult
from finscore.models.store import Artifact
from finscore.products.columns import columns_of
from finscore.products.opportunity.catalog import CATEGORY_TEXT, HIGH_FROM, MEDIUM_FROM
from finscore.products.opportunity.features import FEATURE_NAMES, FEATURE_SET, FEATURES, NUMERIC_FEATURES
from finscore.products.opportunity.model import OUTPUTS, ForestPaths
from finscore.products.opportunity.records import OpportunityRecord
from finscore.records import RowReject, describe_errors
from training.onnx_export import onnx_outputs, to_onnx
from training.opportunity.generator import NOISE_SD, generate_world, training_rows
from training.pipeline import ModelDescription

primary_metric = "mse"
higher_is_better = False
default_rows = 20_000
libraries = ("numpy", "scikit-learn", "skl2onnx", "onnx", "onnxruntime", "vaderSentiment")

LABEL = "opportunity_score"
# Businesses of the generated data: one for every ten training rows (each seen in several months).
ROWS_PER_BUSINESS = 10
N_ESTIMATORS, MAX_DEPTH, MIN_SAMPLES_LEAF = 12, 9, 10
# business_type is kept only when it lowers the validation MSE by more than this share.
TYPE_GAIN = 0.01
PERMUTATION_REPEATS = 5
PREDICTION_TOLERANCE = 1e-3
PARITY_RULE = f"on the held-out test split: |ONNX - scikit-learn| score <= {PREDICTION_TOLERANCE:g} on every row"
FOREST_ARTIFACT, EXPLAINER_ARTIFACT = "forest.onnx", "explainer.json"
REQUIRED = ("sentiment_score", "inflation_rate", "interest_rate")


@dataclass
class FittedOpportunity:
    forest: RandomForestRegressor
    inputs: tuple[str, ...]
    # Both candidates by name: their inputs, parameters and metrics, and their forests (to measure the
    # one left out on the test split too).
    candidates: dict[str, dict[str, Any]]
    forests: dict[str, RandomForestRegressor]


def generate(rows: int, seed: int) -> list[dict[str, Any]]:
    world = generate_world(businesses=max(rows // ROWS_PER_BUSINESS, 50), seed=seed)
    return training_rows(world, rows, seed)


def validate(records: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[RowReject]]:
    """Rows that are valid businesses to score with every factor given, and a label in 0-100."""
    valid, rejects = [], []
    for index, record in enumerate(records):
        problems = []
        try:
            row = OpportunityRecord.model_validate(record).model_dump()
        except ValidationError as exc:
            row, problems = {}, [describe_errors(exc)]
        except (TypeError, AttributeError):
            row, problems = {}, ["row: expected an object of fields"]
        problems += [f"{name}: required for training" for name in REQUIRED if row and row.get(name) is None]
        label = record.get(LABEL) if isinstance(record, Mapping) else None
        if isinstance(label, str):
            try:
                label = float(label)
            except ValueError:
                pass
        if not isinstance(label, (int, float)) or isinstance(label, bool) or not 0 <= label <= 100:
            problems.append(f"{LABEL}: must be a number in 0-100")
        if problems:
            rejects.append(RowReject(index, "; ".join(problems)))
        else:
            valid.append({**row, LABEL: float(label)})
    return valid, rejects


def _matrix(records: Sequence[Mapping[str, Any]], inputs: Sequence[str]) -> np.ndarray:
    matrix = FEATURE_SET.matrix(columns_of(records, (*NUMERIC_FEATURES, "business_type")))
    return matrix[:, [FEATURE_NAMES.index(name) for name in inputs]]


def _labels(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    return np.fromiter((float(record[LABEL]) for record in records), dtype=np.float64, count=len(records))


def _metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    mse = float(mean_squared_error(actual, predicted))
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(mean_absolute_error(actual, predicted)),
            "r2": float(r2_score(actual, predicted))}


def fit(train: Sequence[Mapping[str, Any]], validation: Sequence[Mapping[str, Any]], *, seed: int,
        config: Mapping[str, Any]) -> FittedOpportunity:
    parameters = {"n_estimators": int(config.get("n_estimators", N_ESTIMATORS)),
                  "max_depth": int(config.get("max_depth", MAX_DEPTH)),
                  "min_samples_leaf": int(config.get("min_samples_leaf", MIN_SAMPLES_LEAF))}
    candidates: dict[str, dict[str, Any]] = {}
    fitted: dict[str, RandomForestRegressor] = {}
    for name, inputs in (("factors", NUMERIC_FEATURES), ("factors+business_type", FEATURE_NAMES)):
        forest = RandomForestRegressor(random_state=seed, n_jobs=int(config.get("threads", 2)), **parameters)
        forest.fit(_matrix(train, inputs).astype(np.float32), _labels(train))
        predicted = forest.predict(_matrix(validation, inputs).astype(np.float32))
        candidates[name] = {"inputs": list(inputs), "validation": _metrics(_labels(validation), predicted)}
        fitted[name] = forest
    without, with_type = (candidates[name]["validation"]["mse"] for name in candidates)
    chosen = "factors+business_type" if with_type < without * (1.0 - TYPE_GAIN) else "factors"
    for name in candidates:
        candidates[name]["chosen"] = name == chosen
        candidates[name]["parameters"] = parameters
    return FittedOpportunity(fitted[chosen], tuple(candidates[chosen]["inputs"]), candidates, fitted)


def _predict(fitted: FittedOpportunity, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    return fitted.forest.predict(_matrix(records, fitted.inputs).astype(np.float32))


def evaluate(fitted: FittedOpportunity, test: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    actual = _labels(test)
    for name, forest in fitted.forests.items():
        inputs = fitted.candidates[name]["inputs"]
        fitted.candidates[name]["test"] = _metrics(actual, forest.predict(_matrix(test, inputs).astype(np.float32)))
    matrix = _matrix(test, fitted.inputs).astype(np.float32)
    permuted = permutation_importance(fitted.forest, matrix, actual, scoring="r2", n_repeats=PERMUTATION_REPEATS,
                                      random_state=0, n_jobs=1)
    predicted = np.clip(fitted.forest.predict(matrix), 0.0, 100.0)
    return {
        **_metrics(actual, predicted),
        # The label's own noise: no model can go below this MSE on the synthetic data.
        "noise_mse": NOISE_SD ** 2,
        "candidates": fitted.candidates,
        "business_type_kept": "business_type" in fitted.inputs,
        "feature_importance": {
            "impurity": _ranked(dict(zip(fitted.inputs, fitted.forest.feature_importances_.tolist()))),
            "permutation": _ranked(dict(zip(fitted.inputs, permuted.importances_mean.tolist()))),
            "permutation_std": {name: round(float(value), 6) for name, value in
                                zip(fitted.inputs, permuted.importances_std.tolist())},
        },
        "category_shares": {name: float(np.mean(mask)) for name, mask in (
            ("high", predicted >= HIGH_FROM), ("medium", (predicted >= MEDIUM_FROM) & (predicted < HIGH_FROM)),
            ("low", predicted < MEDIUM_FROM))},
        "test_rows": int(len(actual)),
    }


def _ranked(values: Mapping[str, float]) -> dict[str, float]:
    return {name: round(float(value), 6) for name, value in sorted(values.items(), key=lambda item: -item[1])}


def gate_metrics(outputs: Mapping[str, np.ndarray], test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """MSE of the served score on labelled rows (the promotion gate's yardstick)."""
    return {primary_metric: float(mean_squared_error(_labels(test), outputs["opportunity_score"]))}


def explainer_document(forest: RandomForestRegressor) -> dict[str, Any]:
    """Each tree's structure, for the exact path decomposition at serving time."""
    trees = []
    for estimator in forest.estimators_:
        tree = estimator.tree_
        trees.append({"feature": tree.feature.tolist(), "threshold": tree.threshold.tolist(),
                      "left": tree.children_left.tolist(), "right": tree.children_right.tolist(),
                      "value": tree.value[:, 0, 0].tolist()})
    return {"algorithm": "path decomposition (Saabas)", "trees": trees}


def export_onnx(fitted: FittedOpportunity) -> dict[str, Artifact]:
    graph = to_onnx(fitted.forest, len(fitted.inputs)).SerializeToString()
    explainer = json.dumps(explainer_document(fitted.forest), separators=(",", ":")).encode()
    return {FOREST_ARTIFACT: Artifact(graph, "onnx", "serving"), EXPLAINER_ARTIFACT: Artifact(explainer, "json", "serving")}


def parity(fitted: FittedOpportunity, artifacts: Mapping[str, Artifact], test: Sequence[Mapping[str, Any]]) -> ParityResult:
    """The ONNX graph against the forest, and the path decomposition against both, on the test split."""
    matrix = _matrix(test, fitted.inputs).astype(np.float32)
    onnx_scores = onnx_outputs(artifacts[FOREST_ARTIFACT].data, matrix, ["variable"])[0].reshape(-1).astype(np.float64)
    native = fitted.forest.predict(matrix)
    difference = np.abs(onnx_scores - native)
    worst = float(difference.max()) if len(difference) else 0.0
    paths = ForestPaths.from_document(json.loads(artifacts[EXPLAINER_ARTIFACT].data))
    sample = matrix[:200]
    decomposed = np.array([paths.decompose(row)[2] for row in sample])
    explain_worst = float(np.abs(decomposed - native[:len(sample)]).max()) if len(sample) else 0.0
    passed = worst <= PREDICTION_TOLERANCE and explain_worst <= PREDICTION_TOLERANCE
    return ParityResult(passed=passed, rows=len(matrix), rule=PARITY_RULE + "; the path decomposition's sum as well",
                        max_abs_diff=worst, tolerance=PREDICTION_TOLERANCE, label_agreement=1.0 if passed else 0.0,
                        min_label_agreement=1.0,
                        per_model={"forest": {"max_abs_diff": worst, "tolerance": PREDICTION_TOLERANCE},
                                   "explanation": {"max_abs_diff": explain_worst, "tolerance": PREDICTION_TOLERANCE}})


def describe(fitted: FittedOpportunity) -> ModelDescription:
    return ModelDescription(
        features=FEATURES,
        outputs=[OutputSpec(name=name, type=kind, description=text) for name, kind, text in OUTPUTS],
        thresholds={"high": HIGH_FROM, "medium": MEDIUM_FROM, "categories": CATEGORY_TEXT,
                    "chosen_by": "fixed by the product (finscore.products.opportunity.catalog)"},
        hyperparameters={**fitted.forest.get_params(deep=False), "inputs": list(fitted.inputs),
                         "chosen_by": f"business_type kept only if it lowers the validation MSE by more than "
                                      f"{TYPE_GAIN:.0%}; size bounded for a small ONNX graph"},
        extra={
            "model": {"artifact": FOREST_ARTIFACT, "explainer": EXPLAINER_ARTIFACT,
                      "algorithm": "scikit-learn RandomForestRegressor", "inputs": list(fitted.inputs)},
            "label": f"synthetic: opportunity_score = a documented function of sentiment_score, revenue, age, rating, "
                     f"inflation_rate and interest_rate, plus Gaussian noise (sd {NOISE_SD:g}), clipped to 0-100 "
                     "(training.opportunity.generator.target)",
            "feature_importance": {"impurity": _ranked(dict(zip(fitted.inputs,
                                                                fitted.forest.feature_importances_.tolist())))},
        },
    )


def batch_file(rows: int, seed: int) -> bytes:
    """A CSV of ROWS businesses to score (business_id, location, business_type, revenue, age, rating),
    drawn with SEED from the businesses of the default training data (seed 7: the ones the local run
    seeds), for the batch benchmark: sentiment and indicators come from the stores, as in a user's file."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    world = generate_world(businesses=default_rows // ROWS_PER_BUSINESS, seed=7)
    picks = np.random.default_rng(seed).integers(0, len(world.businesses), rows)
    table = pa.table({name: pa.array([world.businesses[int(index)][name] for index in picks])
                      for name in ("business_id", "location", "business_type", "revenue", "age", "rating")})
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()
