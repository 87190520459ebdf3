"""The two candidates every custom model weighs, and the choice between them.

- baseline: a regularised logistic regression (binary) or ridge regression (regression) on a
  standard preprocessing: numeric inputs (numbers, yes/no flags, date parts) imputed with the
  training median and standardised, categorical levels one-hot encoded. Its strength (C or alpha)
  is chosen from a small grid by validation log loss (binary) or RMSE (regression). The whole
  pipeline is exported to ONNX, so the imputation lives in the serving graph.
- boosting: XGBoost with modest fixed settings, monotone constraints where the definition declares
  them, and early stopping on validation (refitted with the rounds that were best, so the exported
  graph holds exactly the trees that predict).

The choice: boosting wins only when it is CLEARLY better on validation, i.e. the whole 95% paired
bootstrap interval of its validation primary metric minus the baseline's lies above zero. A tie or a
noisy edge goes to the simpler model, which is what keeps "boosting won on validation but lost on
test" rare: a difference that clears its own sampling noise on validation seldom reverses on test.
A baseline that contradicts a declared monotone direction (a coefficient of the wrong sign) is not
eligible: the served model must keep the user's promise. A chosen model whose own validation
interval does not clear chance (ROC-AUC 0.5, R2 0) is no model at all: training stops with NoSignal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, mean_squared_error, r2_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from finscore.products.custom.schema import CATEGORICAL, CustomSchema
from training.gate import bootstrap_interval

BASELINE, BOOSTING = "baseline", "boosting"
LOGISTIC_C = (0.01, 0.1, 1.0, 10.0)
RIDGE_ALPHA = (0.1, 1.0, 10.0, 100.0)
MAX_ROUNDS = 1_000
EARLY_STOPPING_ROUNDS = 50
BOOSTING_PARAMETERS = {"learning_rate": 0.05, "max_depth": 4, "min_child_weight": 5, "subsample": 0.8,
                       "colsample_bytree": 0.8, "reg_lambda": 1.0, "tree_method": "hist"}
SELECTION_SAMPLES = 200
SELECTION_RULE = ("boosting only when the whole 95% paired bootstrap interval (200 resamples of the validation rows) "
                  "of its validation {metric} minus the baseline's lies above zero; otherwise the baseline")


class NoSignal(ValueError):
    """Neither candidate predicts the target on validation better than chance."""


@dataclass
class Candidate:
    name: str  # baseline | boosting
    algorithm: str
    model: Any
    parameters: dict[str, Any]
    validation: dict[str, float] = field(default_factory=dict)
    eligible: bool = True
    note: str = ""


def primary_metric(task: str) -> str:
    return "roc_auc" if task == "binary" else "r2"


def raw_scores(model: Any, matrix: np.ndarray, task: str) -> np.ndarray:
    """The native model's positive-class probability (binary) or value (regression) per row."""
    features = np.asarray(matrix, dtype=np.float32)
    if task == "binary":
        return model.predict_proba(features)[:, 1].astype(np.float64)
    return model.predict(features).astype(np.float64)


def primary_value(task: str, labels: np.ndarray, scores: np.ndarray) -> float:
    if task == "binary":
        return float(roc_auc_score(labels, scores))
    return float(r2_score(labels, scores))


def fit_baseline(schema: CustomSchema, task: str, train_x: np.ndarray, train_y: np.ndarray,
                 validation_x: np.ndarray, validation_y: np.ndarray, *, monotone: Mapping[str, int]) -> Candidate:
    slices = schema.feature_slices()
    categorical = [slices[column.name][0] for column in schema.columns if column.kind == CATEGORICAL]
    numeric = [position for position in range(train_x.shape[1]) if position not in categorical]
    transformers = []
    if numeric:
        transformers.append(("numeric", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                                                  ("scale", StandardScaler())]), numeric))
    if categorical:
        transformers.append(("categorical", OneHotEncoder(handle_unknown="ignore"), categorical))
    grid = LOGISTIC_C if task == "binary" else RIDGE_ALPHA
    best: tuple[float, Any, float] | None = None
    for strength in grid:
        estimator = LogisticRegression(C=strength, max_iter=2_000) if task == "binary" else Ridge(alpha=strength)
        pipeline = Pipeline([("preprocess", ColumnTransformer(transformers)), ("model", estimator)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes on the weakest regularisation
            pipeline.fit(train_x.astype(np.float32), train_y)
        scores = raw_scores(pipeline, validation_x, task)
        loss = float(log_loss(validation_y, scores, labels=[0, 1])) if task == "binary" \
            else float(np.sqrt(mean_squared_error(validation_y, scores)))
        if best is None or loss < best[0]:
            best = (loss, pipeline, strength)
    _, pipeline, strength = best
    parameter = "C" if task == "binary" else "alpha"
    candidate = Candidate(BASELINE, "logistic regression" if task == "binary" else "ridge regression", pipeline,
                          {parameter: strength, "grid": list(grid),
                           "chosen_by": "validation log loss" if task == "binary" else "validation RMSE",
                           "preprocessing": "median imputation + standardisation; one-hot categorical levels"})
    wrong = _contradicted(pipeline, numeric, slices, monotone)
    if wrong:
        candidate.eligible = False
        candidate.note = ("not eligible: its coefficients contradict the declared monotone direction of "
                          f"{', '.join(wrong)}")
    return candidate


def _contradicted(pipeline: Pipeline, numeric: list[int], slices: Mapping[str, list[int]],
                  monotone: Mapping[str, int]) -> list[str]:
    """Monotone columns whose linear coefficient has the sign opposite to the declared direction."""
    coefficients = np.ravel(pipeline.named_steps["model"].coef_)
    wrong = []
    for name, direction in monotone.items():
        if name not in slices or slices[name][0] not in numeric:
            continue
        coefficient = coefficients[numeric.index(slices[name][0])]
        if coefficient * direction < -1e-9:
            wrong.append(name)
    return wrong


def monotone_vector(schema: CustomSchema, monotone: Mapping[str, int]) -> tuple[int, ...]:
    slices = schema.feature_slices()
    vector = [0] * len(schema.feature_names)
    for name, direction in monotone.items():
        for position in slices.get(name, ()):
            vector[position] = int(direction)
    return tuple(vector)


def fit_boosting(schema: CustomSchema, task: str, train_x: np.ndarray, train_y: np.ndarray,
                 validation_x: np.ndarray, validation_y: np.ndarray, *, monotone: Mapping[str, int], seed: int,
                 config: Mapping[str, Any]) -> Candidate:
    parameters = {**BOOSTING_PARAMETERS, **{key: config[key] for key in BOOSTING_PARAMETERS if key in config}}
    constraints = monotone_vector(schema, monotone)
    threads = int(config.get("threads", 2))
    common = dict(parameters, monotone_constraints=constraints, n_jobs=threads, random_state=seed)
    # The base score set explicitly (the training mean) keeps the ONNX converter's reading of it exact.
    base_score = float(np.clip(train_y.mean(), 0.01, 0.99)) if task == "binary" else float(train_y.mean())

    def make(rounds: int, **extra: Any) -> Any:
        if task == "binary":
            return XGBClassifier(n_estimators=rounds, eval_metric="logloss", base_score=base_score, **common, **extra)
        return XGBRegressor(n_estimators=rounds, eval_metric="rmse", base_score=base_score, **common, **extra)

    rounds = int(config.get("rounds", MAX_ROUNDS))
    probe = make(rounds, early_stopping_rounds=EARLY_STOPPING_ROUNDS)
    probe.fit(train_x, train_y, eval_set=[(validation_x, validation_y)], verbose=False)
    best = int(probe.best_iteration) + 1
    model = make(best).fit(train_x, train_y)
    return Candidate(BOOSTING, "xgboost", model,
                     {**parameters, "n_estimators": best, "max_rounds": rounds,
                      "early_stopping_rounds": EARLY_STOPPING_ROUNDS,
                      "monotone_constraints": {name: int(direction) for name, direction in monotone.items()},
                      "chosen_by": "fixed settings; rounds by early stopping on validation"})


def choose(baseline: Candidate, boosting: Candidate, task: str, validation_y: np.ndarray,
           validation_x: np.ndarray) -> tuple[Candidate, dict[str, Any]]:
    """The candidate to serve (SELECTION_RULE), and the comparison behind the choice."""
    metric = primary_metric(task)
    scores = {candidate.name: raw_scores(candidate.model, validation_x, task) for candidate in (baseline, boosting)}
    for candidate in (baseline, boosting):
        candidate.validation = {metric: primary_value(task, validation_y, scores[candidate.name])}

    def difference_on(rows: np.ndarray) -> float:
        labels = validation_y[rows]
        return primary_value(task, labels, scores[BOOSTING][rows]) - primary_value(task, labels, scores[BASELINE][rows])

    interval = bootstrap_interval(difference_on, len(validation_y), samples=SELECTION_SAMPLES, seed=0)
    clearly_better = interval is not None and interval[0] > 0
    if not baseline.eligible:
        chosen, why = boosting, baseline.note
    elif clearly_better:
        chosen, why = boosting, "boosting is better on validation beyond sampling noise"
    else:
        chosen, why = baseline, ("boosting is not clearly better on validation" if interval is None
                                 or interval[1] > 0 else "boosting is worse on validation")
    chance = 0.5 if task == "binary" else 0.0
    own = bootstrap_interval(lambda rows: primary_value(task, validation_y[rows], scores[chosen.name][rows]),
                             len(validation_y), samples=SELECTION_SAMPLES, seed=0)
    if own is None or own[0] <= chance:
        shown = f"[{own[0]:.3f}, {own[1]:.3f}]" if own else "undefined"
        raise NoSignal(f"no signal: the chosen {chosen.name}'s validation {metric} is {chosen.validation[metric]:.3f} "
                       f"(95% interval {shown}), not better than chance ({chance:g}); the usable columns do not "
                       "predict the target")
    difference = boosting.validation[metric] - baseline.validation[metric]
    return chosen, {"chosen": chosen.name, "metric": metric, "rule": SELECTION_RULE.format(metric=metric),
                    "why": why, "validation_difference": round(difference, 6),
                    "validation_interval": [round(value, 6) for value in interval] if interval else None}
