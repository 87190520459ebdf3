"""risk's training plug-in: this module satisfies training.pipeline.Product (with its split and report hooks).

Records: one per customer, {"customer": CustomerRecord fields, "transactions": [TransactionRecord
fields], "delinquent": 0 | 1, "as_of": ISO date}; `training_records` builds them from the two tables
and the labels (users' own data: customer_id, delinquent, as_of) and `generate` from the synthetic
portfolio. as_of is the customer's observation date: the label says what happened after it, and the
features use only transactions up to it (later ones are counted in the manifest, never used).
Validation checks every field and computes the features once with finscore.products.risk.features, so the
rest of the pipeline works on feature rows.

Models: XGBoost and LightGBM with modest fixed hyperparameters, both monotone in the direction of
each feature's reason code, fitted on the training split after SMOTE (training split only; the
minority is raised to 30% of the majority: on the synthetic portfolio full or half balancing cost
2-4 points of validation ROC-AUC, because interpolated customers blur count features such as
missed EMIs, while 30% keeps most of the benefit for the rare class); the one with the better
validation ROC-AUC is kept. Each boosts until its validation log loss has not improved for
EARLY_STOPPING_ROUNDS rounds (at most ROUNDS) and is refitted with the rounds that were best, so its
exported graph holds exactly the trees that predict: on the default portfolio XGBoost stops near 150
of 250 rounds, with the same held-out ROC-AUC to 0.001 and 40% less work per scored row. SMOTE inflates the raw probabilities, so a Platt calibration fitted on
the validation split maps them back to real default rates; the decision threshold maximises
validation F1. Held-out metrics come from the test split only.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from imblearn.over_sampling import SMOTE
from lightgbm import LGBMClassifier, early_stopping
from pydantic import ValidationError
from sklearn.base import clone
from sklearn.metrics import (
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from xgboost import XGBClassifier

from finscore.models.manifest import OutputSpec, ParityResult
from finscore.models.native import LIGHTGBM_TEXT, XGBOOST_JSON
from finscore.models.store import Artifact
from finscore.products.risk.spec import NAME
from finscore.products.risk.features import FEATURE_NAMES, FEATURES, as_date, compute_features, feature_matrix
from finscore.products.risk.model import LEVELS, calibrate, risk_levels
from finscore.products.risk.reasons import REASONS, direction
from finscore.records import RowReject, describe_errors, validate_rows
from finscore.products.risk.records import CustomerRecord, TransactionRecord
from training.calibration import fit_platt
from training.data import TrainingData, TrainingFile, files_by_table
from training.metrics import binary_classification, curve_points
from training.onnx_export import ONNX_INPUT, PROBABILITY_OUTPUT, probability_differences, to_onnx
from training.pipeline import SPLIT, ModelDescription
from training.risk.generator import Portfolio, generate_portfolio

primary_metric = "roc_auc"
higher_is_better = True
default_rows = 20_000
libraries = ("numpy", "xgboost", "lightgbm", "imbalanced-learn", "scikit-learn", "onnxmltools", "onnx", "onnxruntime")

LABEL = "delinquent"
ALGORITHMS = ("xgboost", "lightgbm")
SMOTE_RATIO = 0.3
SMOTE_NEIGHBOURS = 5
ROUNDS = 250
EARLY_STOPPING_ROUNDS = 25
LEARNING_RATE = 0.05
TARGET_RECALL = 0.80
# Level cut-offs on the 0-100 score, which is a calibrated probability in percent. With a portfolio
# default rate near 10%: below 15 is "low" (under one and a half times the base rate), from 15
# "medium" (the watch list), from 40 "high" (a customer several times likelier than average to fall
# 60+ days behind: outreach), from 70 "critical" (a default is the likely outcome: act now). The
# API can override them (RISK_LEVEL_CUTOFFS); they are recorded in the manifest with the share of
# held-out customers and the observed default rate in each level (report.json).
LEVEL_CUTOFFS = (15.0, 40.0, 70.0)
# Parity. The ONNX tree ensemble runs in float32. XGBoost also evaluates float32 splits, so the two
# agree to float rounding; LightGBM compares features with float64 thresholds, which ONNX stores as
# float32, so a row whose feature lies between a threshold and its float32 rounding can take the
# other branch of one tree and move its probability by that leaf's weight. Such rows are rare but
# legitimate, so the rule bounds how many there may be and how far any may move instead of
# demanding identity: |p_onnx - p_native| <= 1e-4 on at least 99.5% of held-out rows and <= 1e-2
# on every row, and the risk level identical on at least 99.5% of rows.
PROBABILITY_TOLERANCE = 1e-4
MIN_SHARE_WITHIN_TOLERANCE = 0.995
MAX_ABS_DIFF_ALL_ROWS = 1e-2
MIN_LEVEL_AGREEMENT = 0.995
PARITY_RULE = (
    f"on the held-out test split, raw probability of the ONNX model vs the native model: |diff| <= "
    f"{PROBABILITY_TOLERANCE:g} on >= {MIN_SHARE_WITHIN_TOLERANCE:.1%} of rows and <= {MAX_ABS_DIFF_ALL_ROWS:g} on "
    f"every row; risk level identical on >= {MIN_LEVEL_AGREEMENT:.1%} of rows (ONNX trees run in float32; "
    f"LightGBM splits in float64, so a few rows near a threshold may take the other branch)"
)
MODEL_ARTIFACT = "model.onnx"
NATIVE_ARTIFACTS = {"xgboost": ("native.json", "json", XGBOOST_JSON), "lightgbm": ("native.txt", "native", LIGHTGBM_TEXT)}
REPORT_ARTIFACTS = ("report.json", "roc.png", "pr.png")
MAX_REASONS_PER_REJECT = 5
# The fitted parameters recorded in the manifest and the registry (the rest are library defaults).
HYPERPARAMETERS = ("n_estimators", "max_depth", "num_leaves", "learning_rate", "subsample", "colsample_bytree",
                   "min_child_weight", "min_child_samples", "reg_lambda")


@dataclass
class FittedRisk:
    algorithm: str
    model: Any  # XGBClassifier | LGBMClassifier
    platt_a: float
    platt_b: float
    decision_threshold: float  # calibrated probability
    recall_threshold: float  # calibrated probability flagging TARGET_RECALL of validation's delinquents
    validation_auc: dict[str, float]
    smote: dict[str, Any]
    feature_importance: dict[str, float] = field(default_factory=dict)
    # The training split's median of every feature: the reference of reasons that have no own.
    feature_medians: dict[str, float] = field(default_factory=dict)


def generate(rows: int, seed: int) -> list[dict[str, Any]]:
    return portfolio_records(generate_portfolio(customers=rows, seed=seed))


def portfolio_records(portfolio: Portfolio) -> list[dict[str, Any]]:
    return training_records(portfolio.customers, portfolio.transactions, portfolio.labels, as_of=portfolio.as_of)


def training_records(customers: Iterable[Mapping[str, Any]], transactions: Iterable[Mapping[str, Any]],
                     labels: Mapping[str, Any], as_of: date | str | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One record per customer from the customer and transaction tables, a customer_id -> label map and
    the observation date: one for all (a date) or per customer (customer_id -> date).

    Transactions of a customer_id with no customer row become a record without a customer, which
    validation rejects by name, so no transaction is silently dropped.
    """
    by_customer: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for txn in transactions:
        by_customer[txn.get("customer_id") if isinstance(txn, Mapping) else None].append(txn)
    def stamp(customer_id: Any) -> Any:
        if isinstance(as_of, Mapping):
            return as_of.get(customer_id)
        return as_date(as_of).isoformat() if as_of is not None else None

    records = []
    for customer in customers:
        customer_id = customer.get("customer_id") if isinstance(customer, Mapping) else None
        records.append({"customer": customer, "transactions": by_customer.pop(customer_id, []),
                        LABEL: labels.get(customer_id), "as_of": stamp(customer_id)})
    for customer_id, orphans in by_customer.items():
        records.append({"customer": None, "customer_id": customer_id, "transactions": orphans, LABEL: None,
                        "as_of": stamp(customer_id)})
    return records


def excluded(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """What the data holds that training does not use: transactions dated after their customer's as_of
    (the outcome period the label describes)."""
    after = 0
    for record in records:
        stamp = record.get("as_of") if isinstance(record, Mapping) else None
        if not stamp:
            continue
        last = str(stamp)[:10]
        after += sum(1 for txn in record.get("transactions") or () if isinstance(txn, Mapping)
                     and str(txn.get("date", ""))[:10] > last)
    return {"transactions_after_as_of": after}


TABLES = ("customers", "transactions", "labels")


def assemble(files: Sequence[TrainingFile]) -> TrainingData:
    """Users' files as training records: customers*, transactions* and labels* (customer_id, delinquent,
    as_of), told apart by file name; a row of any other file is rejected naming the expected names."""
    customers: list[Mapping[str, Any]] = []
    customer_origins: list[tuple[str, int]] = []
    transactions: list[tuple[Mapping[str, Any], tuple[str, int]]] = []
    labels: dict[Any, Any] = {}
    observed: dict[Any, Any] = {}
    data = TrainingData(records=[], origins=[], files=[file.key for file in files])
    grouped = files_by_table(files, TABLES, data)
    for file in grouped["customers"]:
        customers += file.rows
        customer_origins += [(file.key, number) for number in file.numbers]
    for file in grouped["transactions"]:
        transactions += [(row, (file.key, number)) for row, number in zip(file.rows, file.numbers)]
    for file in grouped["labels"]:
        for row, number in zip(file.rows, file.numbers):
            if not row.get("customer_id"):
                data.rejects.append(RowReject(number, "customer_id: required", file.key))
                continue
            label = row.get(LABEL)
            # CSV gives strings; validation wants 0 or 1 and names anything else.
            labels[row["customer_id"]] = int(label) if isinstance(label, str) and label.strip() in ("0", "1") else label
            observed[row["customer_id"]] = row.get("as_of")
    records = training_records(customers, [row for row, _ in transactions], labels, observed)
    origin_of_txn: dict[Any, tuple[str, int]] = {}
    for row, origin in transactions:
        origin_of_txn.setdefault(row.get("customer_id"), origin)
    data.records = records
    data.origins = customer_origins + [origin_of_txn.get(r.get("customer_id"), ("transactions", 0))
                                       for r in records[len(customers):]]
    return data


def _record_problems(record: Mapping[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
    """What is wrong with one training record, or its feature row when nothing is."""
    if not isinstance(record, Mapping):
        return [f"record: expected an object, got {type(record).__name__}"], None
    customer_raw = record.get("customer")
    transactions_raw = record.get("transactions") or []
    if customer_raw is None:
        return [f"customer: no customer record for customer_id {record.get('customer_id')!r} "
                f"({len(transactions_raw)} transactions)"], None
    problems = []
    try:
        customer = CustomerRecord.model_validate(customer_raw)
    except ValidationError as exc:
        customer = None
        problems.append(f"customer: {describe_errors(exc)}")
    transactions, rejects = validate_rows(TransactionRecord, transactions_raw)
    problems += [f"transaction {reject.row}: {reject.reason}" for reject in rejects]
    if customer is not None:
        problems += [f"transaction {txn.txn_id}: customer_id {txn.customer_id!r} is not {customer.customer_id!r}"
                     for txn in transactions if txn.customer_id != customer.customer_id]
    label = record.get(LABEL)
    if isinstance(label, bool) or label not in (0, 1):
        problems.append(f"{LABEL}: must be 0 or 1, got {label!r}")
    as_of = record.get("as_of")
    end = None
    if not as_of:
        problems.append("as_of: required: the observation date the label looks forward from (features use only "
                        "transactions up to it)")
    else:
        try:
            end = as_date(as_of)
        except ValueError:
            problems.append(f"as_of: {as_of!r} is not an ISO date")
    if problems or customer is None:
        if len(problems) > MAX_REASONS_PER_REJECT:
            problems = problems[:MAX_REASONS_PER_REJECT] + [f"and {len(problems) - MAX_REASONS_PER_REJECT} more"]
        return problems, None
    # Fields of validated pydantic records live in their __dict__: a mapping, without a model_dump copy.
    features = compute_features(vars(customer), [vars(txn) for txn in transactions], end)
    return [], {**features, "customer_id": customer.customer_id, LABEL: int(label)}


def validate(records: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[RowReject]]:
    """Feature rows of the valid customers; a customer with any bad field, transaction or label is
    rejected whole, because training on a partial history would misread the missing transactions
    (a dropped salary credit looks like a missed salary)."""
    valid, rejects = [], []
    for index, record in enumerate(records):
        problems, row = _record_problems(record)
        if row is None:
            rejects.append(RowReject(index, "; ".join(problems)))
        else:
            valid.append(row)
    return valid, rejects


def record_key(record: Mapping[str, Any]) -> str:
    """Which rows are the same for the promotion gate: a customer, whatever the data their features
    came from, so a champion that fitted on a customer never counts as judged on them."""
    return str(record["customer_id"])


def split(records: Sequence[dict[str, Any]], seed: int) -> tuple[list, list, list]:
    """Train, validation and test (70/15/15) of a seeded shuffle, stratified by the label so each
    split keeps the portfolio's default rate."""
    rng = np.random.default_rng(seed)
    labels = _labels(records)
    parts: list[list[int]] = [[], [], []]
    for value in (0, 1):
        members = rng.permutation(np.flatnonzero(labels == value))
        train_end = int(round(len(members) * SPLIT[0]))
        validation_end = train_end + int(round(len(members) * SPLIT[1]))
        for part, chunk in zip(parts, np.split(members, [train_end, validation_end])):
            part.extend(chunk.tolist())
    return tuple([records[i] for i in rng.permutation(part)] for part in parts)  # type: ignore[return-value]


def _labels(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    return np.fromiter((record[LABEL] for record in records), dtype=np.int64, count=len(records))


def monotone_constraints() -> list[int]:
    return [direction(feature) for feature in FEATURE_NAMES]


def _candidates(seed: int, config: Mapping[str, Any]) -> dict[str, Any]:
    rounds = int(config.get("rounds", ROUNDS))
    threads = int(config.get("threads", 2))
    return {
        "xgboost": XGBClassifier(
            n_estimators=rounds, max_depth=4, learning_rate=LEARNING_RATE, subsample=0.8, colsample_bytree=0.8,
            min_child_weight=5, reg_lambda=1.0, tree_method="hist", monotone_constraints=tuple(monotone_constraints()),
            n_jobs=threads, random_state=seed, eval_metric="logloss",
        ),
        "lightgbm": LGBMClassifier(
            n_estimators=rounds, num_leaves=15, max_depth=5, learning_rate=LEARNING_RATE, subsample=0.8,
            subsample_freq=1, colsample_bytree=0.8, min_child_samples=20, monotone_constraints=monotone_constraints(),
            n_jobs=threads, random_state=seed, verbose=-1,
        ),
    }


def best_f1_threshold(probability: np.ndarray, labels: np.ndarray) -> float:
    precision, recall, thresholds = precision_recall_curve(labels, probability)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def native_probabilities(fitted: FittedRisk, matrix: np.ndarray) -> np.ndarray:
    return fitted.model.predict_proba(matrix)[:, 1]


def validation_rounds(algorithm: str, model: Any, x: np.ndarray, y: np.ndarray,
                      validation_x: np.ndarray, validation_y: np.ndarray) -> int:
    """The boosting rounds (up to MODEL's n_estimators) after which validation log loss stopped improving
    for EARLY_STOPPING_ROUNDS rounds, found by a probe fit of a copy of MODEL."""
    probe = clone(model)
    if algorithm == "xgboost":
        probe.set_params(early_stopping_rounds=EARLY_STOPPING_ROUNDS)
        probe.fit(x, y, eval_set=[(validation_x, validation_y)], verbose=False)
        return int(probe.best_iteration) + 1
    probe.fit(x, y, eval_X=validation_x, eval_y=validation_y, eval_metric="binary_logloss",
              callbacks=[early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)])
    return int(probe.best_iteration_ or probe.n_estimators)


def fit(train: Sequence[Mapping[str, Any]], validation: Sequence[Mapping[str, Any]], *, seed: int,
        config: Mapping[str, Any]) -> FittedRisk:
    train_x, train_y = feature_matrix(train), _labels(train)
    validation_x, validation_y = feature_matrix(validation), _labels(validation)
    ratio = float(config.get("smote_ratio", SMOTE_RATIO))
    neighbours = min(SMOTE_NEIGHBOURS, int(train_y.sum()) - 1)
    resampled_x, resampled_y = SMOTE(sampling_strategy=ratio, k_neighbors=neighbours,
                                     random_state=seed).fit_resample(train_x, train_y)
    models, auc = {}, {}
    for algorithm, model in _candidates(seed, config).items():
        if algorithm not in config.get("algorithms", ALGORITHMS):
            continue
        rounds = validation_rounds(algorithm, model, resampled_x, resampled_y, validation_x, validation_y)
        model.set_params(n_estimators=rounds).fit(resampled_x, resampled_y)
        models[algorithm] = model
        auc[algorithm] = float(roc_auc_score(validation_y, model.predict_proba(validation_x)[:, 1]))
    algorithm = max(auc, key=lambda key: (auc[key], -ALGORITHMS.index(key)))
    model = models[algorithm]
    raw = model.predict_proba(validation_x)[:, 1]
    a, b = fit_platt(raw, validation_y)
    calibrated = calibrate(raw, a, b)
    fitted = FittedRisk(
        algorithm=algorithm, model=model, platt_a=a, platt_b=b,
        decision_threshold=best_f1_threshold(calibrated, validation_y),
        recall_threshold=recall_threshold(calibrated, validation_y)[0],
        validation_auc=auc,
        smote={"sampling_strategy": ratio, "k_neighbors": neighbours, "train_rows": int(len(train_y)),
               "train_positives": int(train_y.sum()), "resampled_rows": int(len(resampled_y)),
               "resampled_positives": int(resampled_y.sum())},
    )
    fitted.feature_importance = feature_importance(fitted)
    fitted.feature_medians = {name: round(float(value), 6) for name, value in zip(FEATURE_NAMES, np.median(train_x, axis=0))}
    return fitted


def feature_importance(fitted: FittedRisk) -> dict[str, float]:
    """Total split gain per feature, as shares summing to 1, largest first."""
    if fitted.algorithm == "xgboost":
        gains = fitted.model.get_booster().get_score(importance_type="total_gain")
        values = np.array([gains.get(f"f{i}", 0.0) for i in range(len(FEATURE_NAMES))])
    else:
        values = np.asarray(fitted.model.booster_.feature_importance(importance_type="gain"), dtype=float)
    shares = values / values.sum() if values.sum() > 0 else values
    return dict(sorted(((n, round(float(s), 6)) for n, s in zip(FEATURE_NAMES, shares)), key=lambda item: -item[1]))


def _held_out(fitted: FittedRisk, test: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    probability = calibrate(native_probabilities(fitted, feature_matrix(test)), fitted.platt_a, fitted.platt_b)
    return probability, _labels(test)


def recall_threshold(probability: np.ndarray, labels: np.ndarray, target: float = TARGET_RECALL) -> tuple[float, float, float]:
    """The highest probability threshold whose recall reaches TARGET: (threshold, recall, precision)."""
    order = np.argsort(-probability, kind="stable")
    hits = np.cumsum(labels[order])
    needed = int(np.ceil(target * labels.sum()))
    k = int(np.searchsorted(hits, needed))
    threshold = float(probability[order][k])
    flagged = probability >= threshold
    return threshold, float(labels[flagged].sum() / labels.sum()), float(labels[flagged].mean())


def evaluate(fitted: FittedRisk, test: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    probability, labels = _held_out(fitted, test)
    # The threshold was chosen on validation; test says what it flags on customers it never saw.
    flagged = probability >= fitted.recall_threshold
    return {
        **binary_classification(labels, probability, fitted.decision_threshold),
        "brier": float(brier_score_loss(labels, probability)),
        "decision_threshold": round(100 * fitted.decision_threshold, 2),
        "threshold_for_80_recall": round(100 * fitted.recall_threshold, 2),
        "recall_at_80_threshold": float(labels[flagged].sum() / labels.sum()) if labels.sum() else 0.0,
        "precision_at_80_threshold": float(labels[flagged].mean()) if flagged.any() else 0.0,
    }


def gate_metrics(outputs: Mapping[str, np.ndarray], test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """ROC-AUC of the served probabilities on labelled feature rows (the promotion gate's yardstick)."""
    return {primary_metric: float(roc_auc_score(_labels(test), outputs["probability"]))}


def level_table(probability: np.ndarray, labels: np.ndarray, cutoffs: Sequence[float]) -> dict[str, dict[str, float]]:
    """Per level: held-out customers, their share and their observed default rate."""
    levels = risk_levels(np.round(100 * probability, 1), cutoffs)
    table = {}
    for level in LEVELS:
        members = levels == level
        table[level] = {
            "customers": int(members.sum()),
            "share": float(members.mean()),
            "default_rate": float(labels[members].mean()) if members.any() else 0.0,
        }
    return table


def report(fitted: FittedRisk, test: Sequence[Mapping[str, Any]], metrics: Mapping[str, Any]) -> dict[str, Artifact]:
    """The evaluation report (report.json) and its ROC and PR curves (PNG), stored beside the model."""
    probability, labels = _held_out(fitted, test)
    document = {
        "product": NAME,
        "split": "test (held out: never used for fitting, model selection or calibration)",
        "metrics": dict(metrics),
        "chosen_algorithm": fitted.algorithm,
        "validation_roc_auc": fitted.validation_auc,
        "calibration": {"method": "platt", "a": fitted.platt_a, "b": fitted.platt_b, "fitted_on": "validation"},
        "smote": fitted.smote,
        "level_cutoffs": list(LEVEL_CUTOFFS),
        "levels": level_table(probability, labels, LEVEL_CUTOFFS),
        "feature_importance": fitted.feature_importance,
        "curves": curve_points(labels, probability),
    }
    return {
        "report.json": Artifact(json.dumps(document, indent=2).encode(), "json", "report"),
        "roc.png": Artifact(_curve_png("roc", probability, labels, metrics), "png", "report"),
        "pr.png": Artifact(_curve_png("pr", probability, labels, metrics), "png", "report"),
    }


def _curve_png(kind: str, probability: np.ndarray, labels: np.ndarray, metrics: Mapping[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 4.5), dpi=100)
    axes = figure.subplots()
    if kind == "roc":
        fpr, tpr, _ = roc_curve(labels, probability)
        axes.plot(fpr, tpr, label=f"ROC-AUC {metrics['roc_auc']:.3f}")
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
        axes.set(xlabel="False positive rate", ylabel="True positive rate (recall)", title="Risk: ROC, held-out test")
    else:
        precision, recall, _ = precision_recall_curve(labels, probability)
        axes.plot(recall, precision, label=f"PR-AUC {metrics['pr_auc']:.3f}")
        axes.axhline(labels.mean(), linestyle="--", color="grey", linewidth=1, label=f"base rate {labels.mean():.3f}")
        axes.axvline(TARGET_RECALL, linestyle=":", color="tab:red", linewidth=1, label="80% recall")
        axes.set(xlabel="Recall", ylabel="Precision", title="Risk: precision-recall, held-out test")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.legend(loc="lower right")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def export_onnx(fitted: FittedRisk) -> dict[str, Artifact]:
    onnx_model = to_onnx(fitted.model, len(FEATURE_NAMES))
    if fitted.algorithm == "xgboost":
        native = fitted.model.get_booster().save_raw(raw_format="json")
    else:
        native = fitted.model.booster_.model_to_string().encode()
    artifact, artifact_format, _ = NATIVE_ARTIFACTS[fitted.algorithm]
    return {
        MODEL_ARTIFACT: Artifact(onnx_model.SerializeToString(), "onnx", "serving"),
        artifact: Artifact(bytes(native), artifact_format, "native"),
    }


def judge_parity(rows: int, diffs: np.ndarray, level_agreement: float, algorithm: str) -> ParityResult:
    """Apply PARITY_RULE to the per-row |ONNX - native| probability differences."""
    max_diff = float(diffs.max()) if len(diffs) else 0.0
    within = float(np.mean(diffs <= PROBABILITY_TOLERANCE)) if len(diffs) else 1.0
    passed = within >= MIN_SHARE_WITHIN_TOLERANCE and max_diff <= MAX_ABS_DIFF_ALL_ROWS and level_agreement >= MIN_LEVEL_AGREEMENT
    return ParityResult(
        passed=passed,
        rows=rows,
        rule=PARITY_RULE,
        max_abs_diff=max_diff,
        tolerance=PROBABILITY_TOLERANCE,
        min_share_within_tolerance=MIN_SHARE_WITHIN_TOLERANCE,
        max_abs_diff_all_rows=MAX_ABS_DIFF_ALL_ROWS,
        label_agreement=level_agreement,
        min_label_agreement=MIN_LEVEL_AGREEMENT,
        per_model={algorithm: {
            "max_abs_diff": max_diff,
            "share_within_tolerance": within,
            "min_share_within_tolerance": MIN_SHARE_WITHIN_TOLERANCE,
            "max_abs_diff_all_rows": MAX_ABS_DIFF_ALL_ROWS,
            "level_agreement": level_agreement,
        }},
    )


def parity(fitted: FittedRisk, artifacts: Mapping[str, Artifact], test: Sequence[Mapping[str, Any]]) -> ParityResult:
    test_x = feature_matrix(test)
    _, onnx_probabilities, native = probability_differences(
        artifacts[MODEL_ARTIFACT].data, fitted.model.predict_proba, test_x)
    onnx_raw, native_raw = onnx_probabilities[:, 1], native[:, 1]
    diffs = np.abs(onnx_raw - native_raw)
    levels = [risk_levels(np.round(100 * calibrate(raw, fitted.platt_a, fitted.platt_b), 1), LEVEL_CUTOFFS)
              for raw in (onnx_raw, native_raw)]
    agreement = float(np.mean(levels[0] == levels[1])) if len(test_x) else 1.0
    return judge_parity(len(test_x), diffs, agreement, fitted.algorithm)


def describe(fitted: FittedRisk) -> ModelDescription:
    native_artifact, _, native_format = NATIVE_ARTIFACTS[fitted.algorithm]
    return ModelDescription(
        features=FEATURES,
        outputs=[
            OutputSpec(name="probability", type="float", description="Calibrated probability of 60+ days past due"),
            OutputSpec(name="risk_score", type="float", description="100 x probability, one decimal, 0-100"),
            OutputSpec(name="risk_level", type="category", description=" | ".join(LEVELS)),
        ],
        thresholds={
            "level_cutoffs": list(LEVEL_CUTOFFS),
            "calibration": {"method": "platt", "a": fitted.platt_a, "b": fitted.platt_b, "fitted_on": "validation",
                            "formula": "p = 1 / (1 + exp(-(a * logit(p_raw) + b)))"},
            "decision_threshold": round(100 * fitted.decision_threshold, 2),
        },
        extra={
            "model": {"artifact": MODEL_ARTIFACT, "algorithm": fitted.algorithm, "input": ONNX_INPUT,
                      "output": PROBABILITY_OUTPUT},
            "native": {"artifact": native_artifact, "format": native_format},
            "feature_medians": fitted.feature_medians,
            "report": {"artifacts": list(REPORT_ARTIFACTS)},
            "label": "60+ days past due in the period after the features' as-of date",
            "validation_roc_auc": fitted.validation_auc,
            "smote": fitted.smote,
            "feature_importance": fitted.feature_importance,
            "levels": list(LEVELS),
            "reason_codes": {feature: REASONS[feature].code for feature in FEATURE_NAMES if feature in REASONS},
            "monotone_constraints": dict(zip(FEATURE_NAMES, monotone_constraints())),
        },
        hyperparameters={
            "algorithm": fitted.algorithm,
            **{name: value for name, value in fitted.model.get_params().items() if name in HYPERPARAMETERS},
            "smote_sampling_strategy": fitted.smote["sampling_strategy"],
            "chosen_by": f"validation ROC-AUC of {', '.join(fitted.validation_auc)}",
            "n_estimators_chosen_by": f"validation log loss, early stopping after {EARLY_STOPPING_ROUNDS} rounds "
                                      "without improvement",
        },
    )


def batch_file(rows: int, seed: int) -> bytes:
    """A CSV of ROWS scoring rows for the batch benchmark: customer_id and the behavioural features of
    a generated portfolio (computed by the feature module), resampled with replacement."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    portfolio = generate_portfolio(customers=2_000, seed=seed)
    transactions: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for transaction in portfolio.transactions:
        transactions[transaction["customer_id"]].append(transaction)
    base = feature_matrix([compute_features(customer, transactions[customer["customer_id"]], portfolio.as_of)
                           for customer in portfolio.customers]).astype(np.float64)
    picks = np.random.default_rng(seed).integers(0, len(base), rows)
    columns = {"customer_id": pa.array([f"B{index:07d}" for index in range(rows)])}
    columns.update({name: pa.array(np.round(base[picks, index], 4)) for index, name in enumerate(FEATURE_NAMES)})
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.table(columns), sink, pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes()
