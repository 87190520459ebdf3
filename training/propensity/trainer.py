"""propensity's trainer: this module satisfies training.pipeline.Trainer (with its split and assemble hooks).

Rows: (investor, stock, day t) triples with the scoring record's fields as of t (finscore's feature
module: bars up to t, purchases up to t) and the label: the investor bought the stock on the next
trading day. Every purchase gives a positive row; negatives are sampled, NEGATIVES_PER_PURCHASE
other stocks of the same investor and day (which stock) and NEGATIVE_DAYS_PER_PURCHASE random
investor-days without a purchase with NEGATIVE_STOCKS_PER_DAY stocks each (whether at all), so the
model learns both. Its probabilities are therefore on that sampled mix, not on the far rarer true
daily rate; the manifest records the sampling, and the ranking and the decision threshold (best F1
on validation) are what it is used for.

Split by time: the days of the rows are cut 70/15/15 in order, so validation is later than every
training day and the test later still (no look-ahead across the split). Model: XGBoost, with a
budgeted random search over depth, learning rate, child weight, subsampling and L2 (SEARCH_BUDGET
trials, early stopping on validation); the trial with the best validation ROC-AUC is refitted on
the training split at its best number of rounds. Held-out metrics come from the test days only.

Users' own data (training/propensity/ in the data bucket): stocks* (stock_id, name, sector,
market_cap_category), bars* (stock_id, date, open, high, low, close, volume), investors* or users*
(user_id, risk_tolerance) and purchases* (user_id, stock_id, date), told apart by file name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping, Sequence

import numpy as np
from pydantic import ValidationError
from sklearn.metrics import precision_recall_curve, roc_auc_score
from xgboost import XGBClassifier

from finscore.models.manifest import OutputSpec, ParityResult
from finscore.models.native import XGBOOST_JSON
from finscore.models.store import Artifact
from finscore.products.columns import columns_of
from finscore.products.propensity.catalog import CAP_CATEGORIES, RISK_TOLERANCES, SECTORS, cap_name, risk_name, sector_name
from finscore.products.propensity.features import (
    FEATURE_NAMES,
    FEATURES,
    FEATURE_SET,
    FREQUENCY_DAYS,
    affinity,
    days_since,
    diversity,
    frequency,
    market_features,
)
from finscore.products.propensity.records import BarRecord, bar_problems
from finscore.records import RowReject, describe_errors
from training.data import TrainingData, TrainingFile, files_by_table
from training.metrics import binary_classification
from training.onnx_export import PROBABILITY_OUTPUT, probability_differences, to_onnx
from training.pipeline import SPLIT, ModelDescription
from training.propensity.generator import WARM_UP_DAYS, Market, generate_market

primary_metric = "roc_auc"
higher_is_better = True
# Investors of the generated market: about 95,000 training rows over 120 stocks and 320 days.
default_rows = 400
libraries = ("numpy", "xgboost", "scikit-learn", "onnxmltools", "onnx", "onnxruntime")

LABEL = "purchased"
DAY = "day"
NEGATIVES_PER_PURCHASE = 4
NEGATIVE_DAYS_PER_PURCHASE = 0.5
NEGATIVE_STOCKS_PER_DAY = 2
SEARCH_BUDGET = 6
MAX_ROUNDS = 400
EARLY_STOPPING_ROUNDS = 30
SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    "max_depth": (3, 4, 5, 6),
    "learning_rate": (0.03, 0.05, 0.1),
    "min_child_weight": (1, 5, 10),
    "subsample": (0.7, 0.85, 1.0),
    "colsample_bytree": (0.7, 0.85, 1.0),
    "reg_lambda": (1.0, 5.0),
}
# ONNX trees and XGBoost both evaluate float32 splits; they agree to float rounding.
PROBABILITY_TOLERANCE = 1e-5
MIN_FLAG_AGREEMENT = 0.999
PARITY_RULE = (f"on the held-out test split: |ONNX - XGBoost| probability <= {PROBABILITY_TOLERANCE:g} on every row "
               f"and the purchase flag identical on >= {MIN_FLAG_AGREEMENT:.1%} of rows")
MODEL_ARTIFACT = "model.onnx"
NATIVE_ARTIFACT = "native.json"
TABLES = ("stocks", "bars", "investors", "users", "purchases")


@dataclass
class FittedPropensity:
    model: XGBClassifier
    threshold: float
    hyperparameters: dict[str, Any]
    trials: list[dict[str, Any]]
    sampling: dict[str, Any] = field(default_factory=dict)


def generate(rows: int, seed: int) -> list[dict[str, Any]]:
    """The generated market of ROWS investors, as training rows."""
    return training_rows(generate_market(users=rows, seed=seed), seed)


def training_rows(market: Market, seed: int) -> list[dict[str, Any]]:
    """Labelled (investor, stock, day) rows of MARKET: every purchase and the sampled negatives."""
    rng = np.random.default_rng(seed)
    stock_ids = [stock["stock_id"] for stock in market.stocks]
    stock_index = {stock_id: index for index, stock_id in enumerate(stock_ids)}
    user_ids = [user["user_id"] for user in market.users]
    user_index = {user_id: index for index, user_id in enumerate(user_ids)}
    days = sorted({bar["date"] for bar in market.bars})
    day_index = {day: index for index, day in enumerate(days)}
    ordinals = np.array([date.fromisoformat(day).toordinal() for day in days], dtype=np.float64)
    stocks, count = len(stock_ids), len(days)

    panel = {name: np.full((stocks, count), np.nan) for name in ("open", "high", "low", "close", "volume")}
    for bar in market.bars:
        if bar["stock_id"] in stock_index and bar["date"] in day_index:
            s, t = stock_index[bar["stock_id"]], day_index[bar["date"]]
            for name in panel:
                panel[name][s, t] = float(bar[name])
    history = market_features(panel["close"], panel["volume"])
    sector_of = np.array([SECTORS.index(stock["sector"]) for stock in market.stocks])

    bought = [(day_index[p["date"]], user_index[p["user_id"]], stock_index[p["stock_id"]])
              for p in market.purchases
              if p["date"] in day_index and p["user_id"] in user_index and p["stock_id"] in stock_index]
    # Investor history as of each day (purchases up to and including it).
    users = len(user_ids)
    per_day = np.zeros((users, count))
    sector_per_day = np.zeros((users, len(SECTORS), count))
    for t, u, s in bought:
        per_day[u, t] += 1
        sector_per_day[u, sector_of[s], t] += 1
    cumulative = per_day.cumsum(axis=1)
    sector_cumulative = sector_per_day.cumsum(axis=2)
    last = np.where(per_day > 0, ordinals[None, :], np.nan)
    last = np.fmax.accumulate(np.where(np.isnan(last), -np.inf, last), axis=1)
    last[np.isinf(last)] = np.nan
    # Purchases in the FREQUENCY_DAYS calendar days ending at each day: the cumulative count minus the
    # count of the last day before that window.
    window_start = np.searchsorted(ordinals, ordinals - FREQUENCY_DAYS, side="right") - 1
    before = np.where(window_start[None, :] >= 0, cumulative[:, np.maximum(window_start, 0)], 0.0)
    recent = cumulative - before

    rows_t, rows_u, rows_s, labels = [], [], [], []
    positives = defaultdict(set)
    for t, u, s in bought:
        if t >= 1:
            positives[(u, t - 1)].add(s)
    first_day = max(WARM_UP_DAYS - 1, 0)
    for (u, t), chosen in sorted(positives.items()):
        if t < first_day:
            continue
        for s in sorted(chosen):
            rows_t.append(t), rows_u.append(u), rows_s.append(s), labels.append(1)
        others = np.setdiff1d(np.arange(stocks), np.fromiter(chosen, int))
        for s in rng.choice(others, size=min(NEGATIVES_PER_PURCHASE, len(others)), replace=False):
            rows_t.append(t), rows_u.append(u), rows_s.append(int(s)), labels.append(0)
    quiet_days = int(round(NEGATIVE_DAYS_PER_PURCHASE * len(positives)))
    candidates_t = rng.integers(first_day, max(count - 1, first_day + 1), quiet_days)
    candidates_u = rng.integers(0, users, quiet_days)
    for t, u in zip(candidates_t.tolist(), candidates_u.tolist()):
        if (u, t) in positives or t >= count - 1:
            continue
        for s in rng.choice(stocks, size=min(NEGATIVE_STOCKS_PER_DAY, stocks), replace=False):
            rows_t.append(t), rows_u.append(u), rows_s.append(int(s)), labels.append(0)

    t_, u_, s_ = np.array(rows_t, dtype=np.int64), np.array(rows_u, dtype=np.int64), np.array(rows_s, dtype=np.int64)
    counts = sector_cumulative[u_, :, t_]
    investor = {
        "days_since_last_purchase": days_since(last[u_, t_], ordinals[t_]),
        "portfolio_diversity_score": diversity(counts),
        "purchase_frequency": frequency(recent[u_, t_]),
        "sector_affinity": affinity(counts, sector_of[s_].astype(float)),
    }
    market_columns = {
        "open_price": panel["open"][s_, t_], "high_price": panel["high"][s_, t_], "low_price": panel["low"][s_, t_],
        "close_price": panel["close"][s_, t_], "volume": panel["volume"][s_, t_],
        **{name: values[s_, t_] for name, values in history.items()},
    }
    risk = [market.users[u]["risk_tolerance"] for u in range(users)]
    records = []
    for row in range(len(t_)):
        s, u, t = int(s_[row]), int(u_[row]), int(t_[row])
        record = {
            "user_id": user_ids[u], "stock_id": stock_ids[s], DAY: days[t], LABEL: int(labels[row]),
            "day_of_week": date.fromisoformat(days[t]).weekday(),
            "sector": market.stocks[s]["sector"], "market_cap_category": market.stocks[s]["market_cap_category"],
            "risk_tolerance": risk[u],
        }
        for name, values in (*market_columns.items(), *investor.items()):
            value = float(values[row])
            record[name] = None if np.isnan(value) else value
        records.append(record)
    return records


def assemble(files: Sequence[TrainingFile]) -> TrainingData:
    """Users' files as a market, then as training rows; a row no table can take is rejected naming why."""
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    data = TrainingData(records=[], origins=[], files=[file.key for file in files])
    for table, grouped in files_by_table(files, TABLES, data).items():
        for file in grouped:
            for row, number in zip(file.rows, file.numbers):
                problem = _table_row_problem(table, row)
                if problem:
                    data.rejects.append(RowReject(number, problem, file.key))
                else:
                    tables[table].append(dict(row))
    stocks = {row["stock_id"]: {"stock_id": row["stock_id"], "name": row.get("name") or row["stock_id"],
                                "sector": row["sector"], "market_cap_category": row["market_cap_category"]}
              for row in tables["stocks"]}
    bars = []
    for row in tables["bars"]:
        bar = BarRecord.model_validate(row)
        if bar.stock_id in stocks:
            bars.append({"stock_id": bar.stock_id, "date": bar.date.isoformat(), "open": bar.open, "high": bar.high,
                         "low": bar.low, "close": bar.close, "volume": bar.volume})
    investors = {row["user_id"]: {"user_id": row["user_id"], "risk_tolerance": row["risk_tolerance"]}
                 for row in tables["investors"] + tables["users"]}
    purchases = [{"user_id": row["user_id"], "stock_id": row["stock_id"], "date": str(row["date"])}
                 for row in tables["purchases"] if row["user_id"] in investors and row["stock_id"] in stocks]
    if not bars:
        return data
    days = sorted({bar["date"] for bar in bars})
    market = Market(stocks=list(stocks.values()), bars=bars, users=list(investors.values()), purchases=purchases,
                    start=date.fromisoformat(days[0]), end=date.fromisoformat(days[-1]))
    data.records = training_rows(market, seed=0)
    # A row of the market is not a row of one file: a validation reject points at the purchases file.
    purchases_file = next((file.key for file in files if file.name.startswith("purchases")), "purchases")
    data.origins = [(purchases_file, 0)] * len(data.records)
    return data


def _table_row_problem(table: str, row: Mapping[str, Any]) -> str:
    if table == "bars":
        try:
            problems = bar_problems(BarRecord.model_validate(row))
        except ValidationError as exc:
            return describe_errors(exc)
        return "; ".join(problems)
    required = {"stocks": ("stock_id", "sector", "market_cap_category"), "investors": ("user_id", "risk_tolerance"),
                "users": ("user_id", "risk_tolerance"), "purchases": ("user_id", "stock_id", "date")}[table]
    missing = [name for name in required if not str(row.get(name) or "").strip()]
    if missing:
        return "; ".join(f"{name}: required" for name in missing)
    if table == "stocks":
        row = dict(row)
        if sector_name(row["sector"]) not in SECTORS:
            return f"sector: {row['sector']!r} is not one of {', '.join(SECTORS)}"
        if cap_name(row["market_cap_category"]) not in CAP_CATEGORIES:
            return f"market_cap_category: {row['market_cap_category']!r} is not one of {', '.join(CAP_CATEGORIES)}"
    if table in ("investors", "users") and risk_name(row["risk_tolerance"]) not in RISK_TOLERANCES:
        return f"risk_tolerance: {row['risk_tolerance']!r} is not one of {', '.join(RISK_TOLERANCES)}"
    if table == "purchases":
        try:
            date.fromisoformat(str(row["date"]))
        except ValueError:
            return f"date: {row['date']!r} is not an ISO date"
    return ""


def validate(records: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[RowReject]]:
    """Rows with a 0/1 label, a day, and numbers where the features expect them."""
    valid, rejects = [], []
    for index, record in enumerate(records):
        problems = []
        if record.get(LABEL) not in (0, 1) or isinstance(record.get(LABEL), bool):
            problems.append(f"{LABEL}: must be 0 or 1")
        try:
            date.fromisoformat(str(record.get(DAY)))
        except ValueError:
            problems.append(f"{DAY}: not an ISO date")
        problems += [f"{name}: must be a number" for name in ("close_price", "open_price", "volume")
                     if not isinstance(record.get(name), (int, float))]
        if problems:
            rejects.append(RowReject(index, "; ".join(problems)))
        else:
            valid.append(dict(record))
    return valid, rejects


def split(records: Sequence[dict[str, Any]], seed: int) -> tuple[list, list, list]:
    """Train, validation and test by time: the rows' days cut 70/15/15 in order."""
    days = sorted({record[DAY] for record in records})
    train_end = days[int(round(len(days) * SPLIT[0])) - 1]
    validation_end = days[int(round(len(days) * (SPLIT[0] + SPLIT[1]))) - 1]
    parts: tuple[list, list, list] = ([], [], [])
    for record in records:
        parts[0 if record[DAY] <= train_end else 1 if record[DAY] <= validation_end else 2].append(record)
    return parts


def _matrix(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    return FEATURE_SET.matrix(columns_of(records))


def _labels(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    return np.fromiter((record[LABEL] for record in records), dtype=np.int64, count=len(records))


def _classifier(seed: int, config: Mapping[str, Any], **parameters: Any) -> XGBClassifier:
    return XGBClassifier(tree_method="hist", n_jobs=int(config.get("threads", 2)), random_state=seed,
                         eval_metric="auc", **parameters)


def fit(train: Sequence[Mapping[str, Any]], validation: Sequence[Mapping[str, Any]], *, seed: int,
        config: Mapping[str, Any]) -> FittedPropensity:
    train_x, train_y = _matrix(train), _labels(train)
    validation_x, validation_y = _matrix(validation), _labels(validation)
    rng = np.random.default_rng(seed)
    budget = int(config.get("search_budget", SEARCH_BUDGET))
    max_rounds = int(config.get("max_rounds", MAX_ROUNDS))
    trials = []
    for trial in range(budget):
        parameters = {name: values[int(rng.integers(len(values)))] for name, values in SEARCH_SPACE.items()}
        model = _classifier(seed, config, n_estimators=max_rounds, early_stopping_rounds=EARLY_STOPPING_ROUNDS,
                            **parameters)
        model.fit(train_x, train_y, eval_set=[(validation_x, validation_y)], verbose=False)
        rounds = int(model.best_iteration) + 1
        score = float(roc_auc_score(validation_y, model.predict_proba(validation_x,
                                                                      iteration_range=(0, rounds))[:, 1]))
        trials.append({"trial": trial, **parameters, "rounds": rounds, "validation_roc_auc": score})
    best = max(trials, key=lambda trial: (trial["validation_roc_auc"], -trial["trial"]))
    chosen = {name: best[name] for name in SEARCH_SPACE} | {"n_estimators": best["rounds"]}
    # Refitted at its best number of rounds without early stopping: the exported graph then holds
    # exactly the trees that predict.
    model = _classifier(seed, config, **chosen).fit(train_x, train_y)
    probability = model.predict_proba(validation_x)[:, 1]
    return FittedPropensity(
        model=model,
        threshold=best_f1_threshold(probability, validation_y),
        hyperparameters={**chosen, "chosen_by": f"validation ROC-AUC of {budget} random-search trials with early "
                                                f"stopping ({EARLY_STOPPING_ROUNDS} rounds)"},
        trials=trials,
        sampling={"negatives_per_purchase": NEGATIVES_PER_PURCHASE,
                  "negative_days_per_purchase": NEGATIVE_DAYS_PER_PURCHASE,
                  "negative_stocks_per_day": NEGATIVE_STOCKS_PER_DAY,
                  "train_rows": int(len(train_y)), "train_positives": int(train_y.sum())},
    )


def best_f1_threshold(probability: np.ndarray, labels: np.ndarray) -> float:
    precision, recall, thresholds = precision_recall_curve(labels, probability)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return round(float(thresholds[int(np.argmax(f1))]), 6)


def evaluate(fitted: FittedPropensity, test: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    labels = _labels(test)
    probability = np.round(fitted.model.predict_proba(_matrix(test))[:, 1], 6)
    days = sorted({record[DAY] for record in test})
    return {
        **binary_classification(labels, probability, fitted.threshold),
        "decision_threshold": fitted.threshold,
        "test_days": f"{days[0]}..{days[-1]}" if days else "",
    }


def gate_metrics(outputs: Mapping[str, np.ndarray], test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """ROC-AUC of the served propensities on labelled rows (the promotion gate's yardstick)."""
    return {primary_metric: float(roc_auc_score(_labels(test), outputs["propensity"]))}


def export_onnx(fitted: FittedPropensity) -> dict[str, Artifact]:
    return {
        MODEL_ARTIFACT: Artifact(to_onnx(fitted.model, len(FEATURE_NAMES)).SerializeToString(), "onnx", "serving"),
        NATIVE_ARTIFACT: Artifact(bytes(fitted.model.get_booster().save_raw(raw_format="json")), "json", "native"),
    }


def parity(fitted: FittedPropensity, artifacts: Mapping[str, Artifact], test: Sequence[Mapping[str, Any]]) -> ParityResult:
    test_x = _matrix(test)
    diffs, onnx_probabilities, native = probability_differences(artifacts[MODEL_ARTIFACT].data,
                                                                fitted.model.predict_proba, test_x)
    max_diff = float(diffs.max()) if len(diffs) else 0.0
    flags = [np.round(probabilities[:, 1], 6) >= fitted.threshold for probabilities in (onnx_probabilities, native)]
    agreement = float(np.mean(flags[0] == flags[1])) if len(test_x) else 1.0
    return ParityResult(
        passed=max_diff <= PROBABILITY_TOLERANCE and agreement >= MIN_FLAG_AGREEMENT,
        rows=len(test_x), rule=PARITY_RULE, max_abs_diff=max_diff, tolerance=PROBABILITY_TOLERANCE,
        label_agreement=agreement, min_label_agreement=MIN_FLAG_AGREEMENT,
        per_model={"xgboost": {"max_abs_diff": max_diff, "flag_agreement": agreement}},
    )


def describe(fitted: FittedPropensity) -> ModelDescription:
    gains = fitted.model.get_booster().get_score(importance_type="total_gain")
    values = np.array([gains.get(f"f{index}", 0.0) for index in range(len(FEATURE_NAMES))])
    shares = values / values.sum() if values.sum() > 0 else values
    return ModelDescription(
        features=FEATURES,
        outputs=[
            OutputSpec(name="propensity", type="float",
                       description="Probability of a purchase on the next trading day (on the training sampling)"),
            OutputSpec(name="purchase", type="bool", description="propensity >= decision_threshold"),
        ],
        thresholds={"decision_threshold": fitted.threshold, "chosen_by": "best F1 on the validation days"},
        hyperparameters=fitted.hyperparameters,
        extra={
            "model": {"artifact": MODEL_ARTIFACT, "algorithm": "xgboost", "output": PROBABILITY_OUTPUT},
            "native": {"artifact": NATIVE_ARTIFACT, "format": XGBOOST_JSON},
            "label": "the investor bought the stock on the trading day after the features' day",
            "split": "by time: 70/15/15 of the days in order (validation and test strictly later)",
            "sampling": fitted.sampling,
            "search": fitted.trials,
            "feature_importance": dict(sorted(((name, round(float(share), 6))
                                              for name, share in zip(FEATURE_NAMES, shares)), key=lambda item: -item[1])),
        },
    )


def batch_file(rows: int, seed: int) -> bytes:
    """A CSV of ROWS scoring records (the API body's fields) drawn from the generated market's rows, for
    the batch benchmark."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    base = generate(120, seed)
    picks = np.random.default_rng(seed).integers(0, len(base), rows)
    fields = [name for name in base[0] if name not in (LABEL, DAY)]
    columns = {}
    for name in fields:
        values = [base[index][name] for index in range(len(base))]
        array = pa.array(values)
        columns[name] = array.take(pa.array(picks))
    sink = io.BytesIO()
    pa_csv.write_csv(pa.table(columns), sink, pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()
