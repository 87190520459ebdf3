"""demand's trainer: this module satisfies training.pipeline.Trainer (with its split and assemble hooks).

Rows: a demand series (pincode x product x channel) as of a week t, with the feature module's
history fields (weeks up to t only) and the labels of week t + 1: its sales (demand_next), whether
they exceed week t's (rise), and which product sells most in the pincode and channel (top_product;
ties go to the product with the higher 4-week mean, then catalogue order).

Split by time: the as-of weeks are cut 70/15/15 in order, so validation is later than every training
week and the test later still. Regions: the pincodes' demand profiles (product and channel mix,
volume, growth) as of the last week before the test are clustered (scaler + K-Means, k in 4..6 by
silhouette); the region is a feature and the regions' details go into the manifest. Models, all
XGBoost with early stopping on validation, predicting with the trees up to the best round: a regressor of
next week's sales, whose confidence is calibrated on validation (the share of validation rows of
similar predicted size whose sales fell within max(1, 25%) of the prediction) with an interval from
the validation residuals' 90th percentile; a rise classifier; a top-product classifier.

Held-out metrics (test weeks only) sit beside a naive seasonal baseline's: next week's sales
forecast as the same week a year before (last week's where there is no year of history), a rise when
that forecast exceeds this week, the top product this week's.

Users' own data (training/demand/ in the data bucket): sales records in CSV, JSON Lines, Parquet or Excel (.xlsx),
one sale a row: date (ISO), pincode (six digits), city, product (loan | credit_card | insurance),
channel (online | offline), agent_id (optional), customer_age (18-100), customer_income (monthly,
INR), record_id (optional). A row that is not a valid sale is rejected with its file, row and reason.
At least 27 weeks of history are needed (13 weeks of features, 13 before them for growth, and one
week to predict).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from finscore.models.manifest import OutputSpec, ParityResult
from finscore.models.store import Artifact
from finscore.products.columns import columns_of
from finscore.products.demand.catalog import CHANNELS, PRODUCTS, SERIES
from finscore.products.demand.features import (
    CALENDAR_FIELDS,
    FEATURE_NAMES,
    FEATURES,
    FEATURE_SET,
    HISTORY_FIELDS,
    LONG_WINDOW,
    SEASON,
    calendar,
    history_features,
)
from finscore.products.demand.model import (
    CLASSIFIER_OUTPUT,
    OUTPUTS,
    RegionMap,
    confidence_band,
)
from finscore.products.demand.records import SaleRecord
from finscore.records import RowReject, validate_rows
from training.data import TrainingData, TrainingFile, files_by_table
from training.onnx_export import onnx_outputs, probability_differences, to_onnx
from training.pipeline import SPLIT, ModelDescription
from training.demand.generator import SalesPanel, generate_panel, panel_of_sales

primary_metric = "mae"
higher_is_better = False
# Pincodes of the generated data: two years of weeks, about 140,000 training rows.
default_rows = 300
libraries = ("numpy", "xgboost", "scikit-learn", "onnxmltools", "onnx", "onnxruntime")

WEEK = "as_of"
DEMAND, RISE, TOP = "demand_next", "rise", "top_product"
BASELINE_DEMAND, BASELINE_TOP = "baseline_demand", "baseline_top_product"
# The first as-of week with a full 13 weeks of features and the 13 weeks before them (growth).
FIRST_WEEK = 2 * LONG_WINDOW - 1
CLUSTER_COUNTS = (4, 5, 6)
MAX_ROUNDS = 150
EARLY_STOPPING_ROUNDS = 15
PARAMETERS = {"max_depth": 5, "learning_rate": 0.15, "subsample": 0.9, "colsample_bytree": 0.9,
              "min_child_weight": 5, "reg_lambda": 2.0, "max_bin": 128}
CONFIDENCE_BINS = 8
# A prediction "hits" when the sales fall within max(HIT_FLOOR, HIT_SHARE x prediction) of it.
HIT_SHARE, HIT_FLOOR = 0.25, 1.0
INTERVAL_QUANTILE = 0.9
PREDICTION_TOLERANCE = 1e-3
PROBABILITY_TOLERANCE = 1e-5
PARITY_RULE = (f"on the held-out test split: |ONNX - XGBoost| demand <= {PREDICTION_TOLERANCE:g} and every class "
               f"probability <= {PROBABILITY_TOLERANCE:g}, on every row")
REGRESSOR_ARTIFACT, RISE_ARTIFACT, TOP_ARTIFACT = "demand.onnx", "rise.onnx", "top_product.onnx"
NATIVE_ARTIFACTS = {"demand": "demand-native.json", "rise": "rise-native.json", "top_product": "top_product-native.json"}
PROFILE_FIELDS = ("share_loan", "share_credit_card", "share_insurance", "online_share", "pincode_mean_13", "growth")


@dataclass
class FittedDemand:
    regressor: XGBRegressor
    rise: XGBClassifier
    top: XGBClassifier
    regions: RegionMap
    bands: dict[str, list[float]]
    region_details: list[dict[str, Any]]
    fallback: dict[str, Any]
    rounds: dict[str, int]


def generate(rows: int, seed: int) -> list[dict[str, Any]]:
    """Training rows of a generated panel of ROWS pincodes."""
    return training_rows(generate_panel(pincodes=rows, seed=seed))


def training_rows(panel: SalesPanel) -> list[dict[str, Any]]:
    """One row per series and as-of week that has a next week, from FIRST_WEEK on."""
    counts = panel.counts.astype(np.float64)
    pincodes, series, weeks = counts.shape
    if weeks <= FIRST_WEEK + 1:
        return []
    history = history_features(counts, panel.ages, panel.incomes)
    nexts = counts[:, :, 1:]
    by_product = counts.reshape(pincodes, len(PRODUCTS), len(CHANNELS), weeks)
    mean_4 = history["mean_4"].reshape(pincodes, len(PRODUCTS), len(CHANNELS), weeks)
    # Ties of next week's sales go to the higher 4-week mean, then catalogue order.
    tie_break = by_product[..., 1:] + mean_4[..., :-1] * 1e-3 - np.arange(len(PRODUCTS))[None, :, None, None] * 1e-6
    top = np.argmax(tie_break, axis=1)  # (pincodes, channels, weeks - 1)
    this_week_top = np.argmax(by_product - np.arange(len(PRODUCTS))[None, :, None, None] * 1e-6, axis=1)
    seasonal = np.full(counts.shape, np.nan)
    seasonal[..., SEASON - 1:] = counts[..., :weeks - SEASON + 1]  # the week a year before week t + 1
    baseline = np.where(np.isnan(seasonal), counts, seasonal)
    calendars = [calendar(day) for day in panel.weeks]
    rows: list[dict[str, Any]] = []
    names = HISTORY_FIELDS
    for t in range(FIRST_WEEK, weeks - 1):
        week = panel.weeks[t].isoformat()
        dates = calendars[t]
        for p in range(pincodes):
            place = panel.pincodes[p]
            for s, (product, channel) in enumerate(SERIES):
                c = CHANNELS.index(channel)
                row = {"pincode": place["pincode"], "city": place["city"], "product": product, "channel": channel,
                       WEEK: week, **dates}
                for name in names:
                    value = history[name][p, s, t]
                    row[name] = None if value != value else float(value)
                row[DEMAND] = float(nexts[p, s, t])
                row[RISE] = int(nexts[p, s, t] > counts[p, s, t])
                row[TOP] = PRODUCTS[int(top[p, c, t])]
                row[BASELINE_DEMAND] = float(baseline[p, s, t])
                row[BASELINE_TOP] = PRODUCTS[int(this_week_top[p, c, t])]
                rows.append(row)
    return rows


def assemble(files: Sequence[TrainingFile]) -> TrainingData:
    """Users' sales files as a weekly panel, then as training rows; a row that is no valid sale is
    rejected with its file, row and reason."""
    data = TrainingData(records=[], origins=[], files=[file.key for file in files])
    sales: list[dict[str, Any]] = []
    for grouped in files_by_table(files, ("sales", "demand"), data).values():
        for file in grouped:
            records, rejects = validate_rows(SaleRecord, file.rows, file.numbers)
            data.rejects += [RowReject(reject.row, reject.reason, file.key) for reject in rejects]
            sales += [record.model_dump() for record in records]
    data.records = training_rows(panel_of_sales(sales))
    # A training row is a week of a series, not a row of one file: a validation reject names the data set.
    data.origins = [(files[0].key if files else "sales", 0)] * len(data.records)
    return data


def validate(records: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[RowReject]]:
    """Rows with a week, a product and channel of the catalogue, and numeric labels."""
    valid, rejects = [], []
    for index, record in enumerate(records):
        problems = []
        try:
            date.fromisoformat(str(record.get(WEEK)))
        except ValueError:
            problems.append(f"{WEEK}: not an ISO date")
        if record.get("product") not in PRODUCTS:
            problems.append(f"product: must be one of {', '.join(PRODUCTS)}")
        if record.get("channel") not in CHANNELS:
            problems.append(f"channel: must be one of {', '.join(CHANNELS)}")
        demand = record.get(DEMAND)
        if not isinstance(demand, (int, float)) or isinstance(demand, bool) or demand < 0:
            problems.append(f"{DEMAND}: must be a number >= 0")
        if record.get(TOP) not in PRODUCTS:
            problems.append(f"{TOP}: must be one of {', '.join(PRODUCTS)}")
        if problems:
            rejects.append(RowReject(index, "; ".join(problems)))
        else:
            valid.append(dict(record))
    return valid, rejects


def split(records: Sequence[dict[str, Any]], seed: int) -> tuple[list, list, list]:
    """Train, validation and test by time: the as-of weeks cut 70/15/15 in order."""
    weeks = sorted({record[WEEK] for record in records})
    train_end = weeks[max(int(round(len(weeks) * SPLIT[0])) - 1, 0)]
    validation_end = weeks[max(int(round(len(weeks) * (SPLIT[0] + SPLIT[1]))) - 1, 0)]
    parts: tuple[list, list, list] = ([], [], [])
    for record in records:
        parts[0 if record[WEEK] <= train_end else 1 if record[WEEK] <= validation_end else 2].append(record)
    return parts


def _matrix(records: Sequence[Mapping[str, Any]], regions: RegionMap) -> np.ndarray:
    columns = columns_of(records, (*HISTORY_FIELDS, *CALENDAR_FIELDS, "product", "channel", "pincode", "city"))
    return regions.fill(FEATURE_SET.matrix(columns), columns)


def _numbers(records: Sequence[Mapping[str, Any]], name: str) -> np.ndarray:
    return np.fromiter((float(record[name]) for record in records), dtype=np.float64, count=len(records))


def _classes(records: Sequence[Mapping[str, Any]], name: str) -> np.ndarray:
    index = {product: position for position, product in enumerate(PRODUCTS)}
    return np.fromiter((index[record[name]] for record in records), dtype=np.int64, count=len(records))


def _asks(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The rows that ask the top-product question: one per pincode, channel and week."""
    return np.fromiter((record["product"] == PRODUCTS[0] for record in records), dtype=bool, count=len(records))


def _latest(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows of the last as-of week of RECORDS."""
    last = max(record[WEEK] for record in records)
    return [record for record in records if record[WEEK] == last]


def cluster_regions(records: Sequence[Mapping[str, Any]], seed: int) -> tuple[RegionMap, list[dict[str, Any]]]:
    """Pincodes clustered by their demand profile as of the last week of RECORDS; the map and the
    regions' details, the largest region first."""
    latest = _latest(records)
    by_pincode: dict[str, list[Mapping[str, Any]]] = {}
    for record in latest:
        by_pincode.setdefault(record["pincode"], []).append(record)
    pincodes = sorted(by_pincode)
    profile = np.array([[float(by_pincode[pincode][0][name] or 0.0) for name in PROFILE_FIELDS] for pincode in pincodes])
    profile[:, 4] = np.log1p(profile[:, 4])
    profile[:, 5] = np.log(np.maximum(profile[:, 5], 1e-3))
    scaled = StandardScaler().fit_transform(profile)
    best: tuple[float, np.ndarray] | None = None
    for k in CLUSTER_COUNTS:
        if len(pincodes) <= k:
            continue
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(scaled)
        score = float(silhouette_score(scaled, labels))
        if best is None or score > best[0]:
            best = (score, labels)
    labels = best[1] if best is not None else np.zeros(len(pincodes), dtype=np.int64)
    # Regions numbered by their weekly sales, largest first.
    volume = {label: sum(float(by_pincode[pincodes[i]][0]["pincode_mean_13"] or 0.0) for i in np.flatnonzero(labels == label))
              for label in set(labels.tolist())}
    order = {label: rank for rank, label in enumerate(sorted(volume, key=lambda label: -volume[label]))}
    region_of = {pincode: order[int(label)] for pincode, label in zip(pincodes, labels.tolist())}
    city_of = {pincode: str(by_pincode[pincode][0]["city"]) for pincode in pincodes}
    details = []
    for region in range(len(order)):
        members = [pincode for pincode in pincodes if region_of[pincode] == region]
        rows = [record for pincode in members for record in by_pincode[pincode]]
        weekly = sum(float(by_pincode[pincode][0]["pincode_mean_13"] or 0.0) for pincode in members)
        total = weekly * LONG_WINDOW
        products = {product: sum(float(row["channel_" + product + "_mean_4"] or 0.0) for row in rows
                                 if row["product"] == product) for product in PRODUCTS}
        channels = {channel: sum(float(row["mean_13"] or 0.0) for row in rows if row["channel"] == channel)
                    for channel in CHANNELS}
        growth = [float(by_pincode[pincode][0]["growth"] or 1.0) for pincode in members]
        details.append({
            "region_id": f"R{region + 1}",
            "pincodes": members,
            "cities": sorted({city_of[pincode] for pincode in members}),
            "total_demand": round(total, 1),
            "avg_demand_per_pincode": round(total / len(members), 2) if members else 0.0,
            "products": _distribution(products, "top_product"),
            "channels": _distribution(channels, "top_channel"),
            "growth": round(float(np.mean(growth)), 4) if growth else 1.0,
            "demand_rise_flag": bool(np.mean(growth) > 1.0) if growth else False,
            "silhouette": round(best[0], 4) if best is not None else None,
        })
    return RegionMap.of(region_of, city_of), details


def _distribution(totals: Mapping[str, float], top_name: str) -> dict[str, Any]:
    whole = sum(totals.values())
    shares = {name: round(value / whole, 4) if whole else 0.0 for name, value in totals.items()}
    return {"distribution": shares, top_name: max(shares, key=lambda name: (shares[name], name)) if whole else None}


def fallback_profiles(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean history fields of a pincode per city (and over all pincodes) for each series, as of the
    last week of RECORDS: what a pincode with no history is answered from."""
    latest = _latest(records)

    def means(rows: Sequence[Mapping[str, Any]]) -> list[float | None]:
        out = []
        for name in HISTORY_FIELDS:
            values = [float(row[name]) for row in rows if row.get(name) is not None]
            out.append(round(float(np.mean(values)), 6) if values else None)
        return out

    cities: dict[str, dict[str, list]] = {}
    overall: dict[str, list] = {}
    for product, channel in SERIES:
        key = f"{product}#{channel}"
        rows = [row for row in latest if row["product"] == product and row["channel"] == channel]
        overall[key] = means(rows)
        for city in sorted({row["city"] for row in rows}):
            cities.setdefault(city, {})[key] = means([row for row in rows if row["city"] == city])
    return {"as_of": latest[0][WEEK], "fields": list(HISTORY_FIELDS), "cities": cities, "overall": overall}


def _regressor(seed: int, config: Mapping[str, Any], **parameters: Any) -> XGBRegressor:
    return XGBRegressor(tree_method="hist", n_jobs=int(config.get("threads", 2)), random_state=seed, **parameters)


def _classifier(seed: int, config: Mapping[str, Any], **parameters: Any) -> XGBClassifier:
    return XGBClassifier(tree_method="hist", n_jobs=int(config.get("threads", 2)), random_state=seed, **parameters)


def _fit_best(make: Any, train: tuple, validation: tuple, max_rounds: int) -> tuple[Any, int]:
    """Fitted until the validation loss stopped improving for EARLY_STOPPING_ROUNDS rounds. XGBoost then
    predicts with the trees up to the best round, and the ONNX converter exports exactly those (the
    parity gate checks it), so no refit is needed."""
    model = make(n_estimators=max_rounds, early_stopping_rounds=EARLY_STOPPING_ROUNDS, **PARAMETERS)
    model.fit(*train, eval_set=[validation], verbose=False)
    return model, int(model.best_iteration) + 1


def fit(train: Sequence[Mapping[str, Any]], validation: Sequence[Mapping[str, Any]], *, seed: int,
        config: Mapping[str, Any]) -> FittedDemand:
    seen = [*train, *validation]
    regions, details = cluster_regions(seen, seed)
    train_x, validation_x = _matrix(train, regions), _matrix(validation, regions)
    max_rounds = int(config.get("max_rounds", MAX_ROUNDS))
    regressor, demand_rounds = _fit_best(
        lambda **kw: _regressor(seed, config, **kw), (train_x, _numbers(train, DEMAND)),
        (validation_x, _numbers(validation, DEMAND)), max_rounds)
    rise, rise_rounds = _fit_best(
        lambda **kw: _classifier(seed, config, eval_metric="logloss", **kw), (train_x, _numbers(train, RISE).astype(int)),
        (validation_x, _numbers(validation, RISE).astype(int)), max_rounds)
    # The top product is one question per pincode, channel and week: the rows of one product ask it.
    asks, validation_asks = _asks(train), _asks(validation)
    top, top_rounds = _fit_best(
        lambda **kw: _classifier(seed, config, objective="multi:softprob", eval_metric="mlogloss", **kw),
        (train_x[asks], _classes(train, TOP)[asks]), (validation_x[validation_asks], _classes(validation, TOP)[validation_asks]),
        max_rounds)
    predicted = np.maximum(regressor.predict(validation_x).astype(np.float64), 0.0)
    return FittedDemand(regressor, rise, top, regions, calibrate_bands(predicted, _numbers(validation, DEMAND)),
                        details, fallback_profiles(seen),
                        {"demand": demand_rounds, "rise": rise_rounds, "top_product": top_rounds})


def hits(predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    return np.abs(actual - predicted) <= np.maximum(HIT_FLOOR, HIT_SHARE * predicted)


def calibrate_bands(predicted: np.ndarray, actual: np.ndarray) -> dict[str, list[float]]:
    """Prediction-size bins (edges from validation quantiles), each with the share of validation rows
    whose sales hit the prediction (the confidence) and the 90th percentile of |residual| (the interval)."""
    edges = np.unique(np.quantile(predicted, np.linspace(0, 1, CONFIDENCE_BINS + 1))[1:-1])
    bins = np.searchsorted(edges, predicted, side="right")
    hit = hits(predicted, actual)
    residual = np.abs(actual - predicted)
    confidence, half_width = [], []
    for index in range(len(edges) + 1):
        chosen = bins == index
        confidence.append(round(float(hit[chosen].mean()), 4) if chosen.any() else 0.5)
        half_width.append(round(float(np.quantile(residual[chosen], INTERVAL_QUANTILE)), 4) if chosen.any() else 1.0)
    return {"edges": [round(float(edge), 6) for edge in edges], "confidence": confidence, "half_width": half_width}


def _regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    positive = actual > 0
    return {
        "r2": float(r2_score(actual, predicted)),
        "mae": float(mean_absolute_error(actual, predicted)),
        "rmse": float(np.sqrt(np.mean((actual - predicted) ** 2))),
        "mape": float(np.mean(np.abs(actual[positive] - predicted[positive]) / actual[positive])) if positive.any() else None,
    }


def _class_metrics(actual: Sequence[Any], predicted: Sequence[Any], labels: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
    scores = f1_score(actual, predicted, labels=list(labels), average=None, zero_division=0)
    return {"accuracy": float(accuracy_score(actual, predicted)),
            "f1": {name: float(score) for name, score in zip(names, scores)},
            "macro_f1": float(np.mean(scores))}


def evaluate(fitted: FittedDemand, test: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    matrix = _matrix(test, fitted.regions)
    actual = _numbers(test, DEMAND)
    predicted = np.maximum(fitted.regressor.predict(matrix).astype(np.float64), 0.0)
    baseline = _numbers(test, BASELINE_DEMAND)
    confidence, lower, upper = confidence_band(predicted, fitted.bands)
    rise_actual = _numbers(test, RISE).astype(int)
    rise_probability = fitted.rise.predict_proba(matrix)[:, 1]
    this_week = np.array([float(record["lag_1"] or 0.0) for record in test])
    asks = _asks(test)
    top_actual = _classes(test, TOP)[asks]
    top_predicted = fitted.top.predict_proba(matrix[asks]).argmax(axis=1)
    top_baseline = _classes(test, BASELINE_TOP)[asks]
    weeks = sorted({record[WEEK] for record in test})
    model, naive = _regression_metrics(actual, predicted), _regression_metrics(actual, baseline)
    return {
        **model,
        **{f"baseline_{name}": value for name, value in naive.items()},
        "baseline": "seasonal naive: the same week a year before (last week's sales without a year of history)",
        "mae_improvement_over_baseline": float(1.0 - model["mae"] / naive["mae"]) if naive["mae"] else None,
        "interval_coverage": float(np.mean((actual >= lower) & (actual <= upper))),
        "mean_confidence": float(np.mean(confidence)),
        "hit_rate": float(np.mean(hits(predicted, actual))),
        "rise": _class_metrics(rise_actual, (rise_probability >= 0.5).astype(int), (1, 0), ("rise", "no_rise")),
        "baseline_rise": _class_metrics(rise_actual, (baseline > this_week).astype(int), (1, 0), ("rise", "no_rise")),
        "top_product": _class_metrics(top_actual, top_predicted, range(len(PRODUCTS)), PRODUCTS),
        "baseline_top_product": _class_metrics(top_actual, top_baseline, range(len(PRODUCTS)), PRODUCTS),
        "test_rows": int(len(actual)),
        "test_weeks": f"{weeks[0]}..{weeks[-1]}" if weeks else "",
    }


def gate_metrics(outputs: Mapping[str, np.ndarray], test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """MAE of the served next-week demand on labelled rows (the promotion gate's yardstick)."""
    return {primary_metric: float(mean_absolute_error(_numbers(test, DEMAND), outputs["predicted_demand"]))}


def export_onnx(fitted: FittedDemand) -> dict[str, Artifact]:
    width = len(FEATURE_NAMES)
    artifacts = {
        REGRESSOR_ARTIFACT: Artifact(to_onnx(fitted.regressor, width).SerializeToString(), "onnx", "serving"),
        RISE_ARTIFACT: Artifact(to_onnx(fitted.rise, width).SerializeToString(), "onnx", "serving"),
        TOP_ARTIFACT: Artifact(to_onnx(fitted.top, width).SerializeToString(), "onnx", "serving"),
    }
    for name, model in (("demand", fitted.regressor), ("rise", fitted.rise), ("top_product", fitted.top)):
        artifacts[NATIVE_ARTIFACTS[name]] = Artifact(bytes(predicting_trees(model).save_raw(raw_format="json")),
                                                     "json", "native")
    return artifacts


def predicting_trees(model: Any) -> Any:
    """MODEL's booster cut to the trees it predicts with: an early-stopped booster also holds the rounds
    after its best, which its own predict (and the ONNX graph) leave out but a booster loaded from the
    file would use."""
    booster = model.get_booster()
    best = getattr(model, "best_iteration", None)
    return booster[: int(best) + 1] if best is not None else booster


def parity(fitted: FittedDemand, artifacts: Mapping[str, Artifact], test: Sequence[Mapping[str, Any]]) -> ParityResult:
    matrix = _matrix(test, fitted.regions)
    onnx_demand = onnx_outputs(artifacts[REGRESSOR_ARTIFACT].data, matrix, [_output_name(artifacts[REGRESSOR_ARTIFACT].data)])[0]
    demand_diff = np.abs(onnx_demand.reshape(-1).astype(np.float64) - fitted.regressor.predict(matrix).astype(np.float64))
    rise_diff = probability_differences(artifacts[RISE_ARTIFACT].data, fitted.rise.predict_proba, matrix)[0]
    top_diff = probability_differences(artifacts[TOP_ARTIFACT].data, fitted.top.predict_proba, matrix)[0]
    worst = {name: float(values.max()) if len(values) else 0.0
             for name, values in (("demand", demand_diff), ("rise", rise_diff), ("top_product", top_diff))}
    passed = worst["demand"] <= PREDICTION_TOLERANCE and max(worst["rise"], worst["top_product"]) <= PROBABILITY_TOLERANCE
    # The top-level figures are the classifiers' probabilities; the regressor has its own tolerance.
    return ParityResult(passed=passed, rows=len(matrix), rule=PARITY_RULE,
                        max_abs_diff=max(worst["rise"], worst["top_product"]), tolerance=PROBABILITY_TOLERANCE,
                        label_agreement=1.0 if passed else 0.0, min_label_agreement=1.0,
                        per_model={name: {"max_abs_diff": value, "tolerance": PREDICTION_TOLERANCE if name == "demand"
                                          else PROBABILITY_TOLERANCE} for name, value in worst.items()})


def _output_name(onnx_bytes: bytes) -> str:
    from finscore.models.onnx import session_from_bytes

    return session_from_bytes(onnx_bytes).get_outputs()[0].name


def describe(fitted: FittedDemand) -> ModelDescription:
    gains = fitted.regressor.get_booster().get_score(importance_type="total_gain")
    values = np.array([gains.get(f"f{index}", 0.0) for index in range(len(FEATURE_NAMES))])
    shares = values / values.sum() if values.sum() > 0 else values
    return ModelDescription(
        features=FEATURES,
        outputs=[OutputSpec(name=name, type=kind, description=text) for name, kind, text in OUTPUTS],
        thresholds={"rise_probability": 0.5, "confidence_bands": fitted.bands,
                    "chosen_by": "confidence and interval per predicted-size bin, measured on the validation weeks"},
        hyperparameters={**PARAMETERS, "rounds": fitted.rounds,
                         "chosen_by": f"early stopping on the validation weeks ({EARLY_STOPPING_ROUNDS} rounds)"},
        extra={
            "models": {"demand": {"artifact": REGRESSOR_ARTIFACT, "algorithm": "xgboost regressor"},
                       "rise": {"artifact": RISE_ARTIFACT, "algorithm": "xgboost classifier",
                                "output": CLASSIFIER_OUTPUT},
                       "top_product": {"artifact": TOP_ARTIFACT, "algorithm": "xgboost classifier",
                                       "output": CLASSIFIER_OUTPUT, "classes": list(PRODUCTS)}},
            "native": {name: {"artifact": artifact, "format": "xgboost-json"} for name, artifact in NATIVE_ARTIFACTS.items()},
            "period": "week (Monday to Sunday); every answer is for the week after the as-of week",
            "labels": {DEMAND: "sales of the series in the next week", RISE: "next week's sales exceed this week's",
                       TOP: "the product with the most sales next week in the pincode and channel"},
            "split": "by time: 70/15/15 of the as-of weeks in order (validation and test strictly later)",
            "regions": fitted.region_details,
            "pincodes": fitted.regions.document(),
            "fallback": fitted.fallback,
            "feature_importance": dict(sorted(((name, round(float(share), 6))
                                              for name, share in zip(FEATURE_NAMES, shares)), key=lambda item: -item[1])),
        },
    )


def batch_file(rows: int, seed: int) -> bytes:
    """A CSV of ROWS demand questions (the seed's row fields) over the pincodes of the default training
    data (seed 7: the ones the local run seeds), drawn with SEED, for the batch benchmark."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    panel = generate_panel(pincodes=default_rows, weeks=2, seed=7)
    rng = np.random.default_rng(seed)
    places = rng.integers(0, len(panel.pincodes), rows)
    table = pa.table({
        "pincode": pa.array([panel.pincodes[int(index)]["pincode"] for index in places]),
        "product": pa.array(np.array(PRODUCTS, dtype=object)[rng.integers(0, len(PRODUCTS), rows)].tolist()),
        "channel": pa.array(np.array(CHANNELS, dtype=object)[rng.integers(0, len(CHANNELS), rows)].tolist()),
        "customer_age": pa.array(rng.integers(21, 65, rows)),
        "customer_income": pa.array(np.round(rng.lognormal(10.8, 0.4, rows), -2)),
    })
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()
