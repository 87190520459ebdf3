"""recommend's training plug-in: this module satisfies training.pipeline.Product.

Segments: StandardScaler + K-Means, k in 4..6 chosen by silhouette on a sample of the validation
split, named from their centroids in original units. Products: one DecisionTreeClassifier per
category, depth chosen by validation accuracy, and a confidence floor per category: the lowest
probability at which the recommendations kept on validation reach the target precision.

Held-out metrics are measured on what the API serves: a product the customer holds is never
recommended and one below the floor is withheld, so both count as misses. Per category: served
accuracy (right recommendations / customers), served precision (right / recommended), coverage,
macro precision and recall, and beside them the raw accuracy of the tree's top class. The primary
metric is the mean served accuracy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from pydantic import ValidationError
from sklearn.cluster import KMeans
from sklearn.metrics import accuracy_score, precision_score, recall_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from finscore.records import RowReject
from finscore.models.manifest import OutputSpec, ParityResult
from finscore.models.store import Artifact
from finscore.products.recommend.catalog import (
    CATEGORIES,
    EMPLOYMENT_STATUSES,
    PRODUCTS_BY_CATEGORY,
    holdings,
    label_column,
)
from finscore.products.recommend.features import (
    CREDIT_MAX,
    CREDIT_MIN,
    FEATURE_NAMES,
    FEATURES,
    HIGH_INCOME_ABOVE,
    INCOME_CAP,
    LOW_INCOME_BELOW,
    RATIO_CAP,
    SAVINGS_CAP,
    feature_matrix,
)
from finscore.products.recommend.model import ProductChoice, confidence_column, product_column
from finscore.products.recommend.api_models import CustomerProfile
from training.onnx_export import LABEL_OUTPUT, onnx_outputs, probability_differences, to_onnx
from training.pipeline import ModelDescription
from training.recommend.generator import generate_customers

primary_metric = "mean_served_accuracy"
higher_is_better = True
default_rows = 20_000
libraries = ("numpy", "scikit-learn", "skl2onnx", "onnx", "onnxruntime")

CLUSTER_COUNTS = (4, 5, 6)
TREE_DEPTHS = (3, 4, 5, 6, 8, 10, 12)
MIN_SAMPLES_LEAF = 10
# A recommendation is served only when the recommendations at least as confident were right this often
# on validation; a floor must keep MIN_FLOOR_SUPPORT validation recommendations to be trusted.
TARGET_PRECISION = 0.9
MIN_FLOOR_SUPPORT = 30
# What a withheld recommendation counts as in the macro metrics.
WITHHELD = "(withheld)"
KMEANS_INITS = 4
SILHOUETTE_SAMPLE = 2_000
PROBABILITY_TOLERANCE = 1e-5
# ONNX computes K-Means distances in float32 with another formula than scikit-learn, so a customer
# almost equidistant from two centroids may land on the other side; the trees compare float32
# thresholds exactly as scikit-learn does and must agree everywhere.
MIN_SEGMENT_AGREEMENT = 0.999
PARITY_RULE = (
    f"on the held-out test split: every decision tree's ONNX probabilities within {PROBABILITY_TOLERANCE:g} "
    f"(max abs diff) of scikit-learn's and identical labels; K-Means segment agreement >= {MIN_SEGMENT_AGREEMENT}"
)
SEGMENTER_ARTIFACT = "segmenter.onnx"
NATIVE_ARTIFACT = "native.json"
PROFILE_FIELDS = tuple(CustomerProfile.model_fields)
# Centroid coordinates reported per segment, in original units: (profile key, feature, is log1p).
SEGMENT_FIELDS = (
    ("age", "age", False),
    ("income", "log_income", True),
    ("credit_score", "credit_score", False),
    ("monthly_spending", "log_monthly_spending", True),
    ("savings_balance", "log_savings_balance", True),
    ("loan_amount", "log_loan_amount", True),
    ("digital_engagement", "digital_engagement", False),
    ("spending_score", "spending_score", False),
    ("saving_frequency", "saving_frequency", False),
    ("loan_behavior", "loan_behavior", False),
    ("financial_health_score", "financial_health_score", False),
)


@dataclass(frozen=True)
class FittedRecommender:
    segmenter: Pipeline
    trees: dict[str, DecisionTreeClassifier]
    segments: list[dict[str, Any]]
    silhouette_by_k: dict[int, float]
    accuracy_by_depth: dict[str, dict[int, float]]
    class_prior: dict[str, list[float]]
    floors: dict[str, dict[str, float]]  # per category: floor, validation precision and coverage at it
    target_precision: float

    def choice(self) -> ProductChoice:
        """What serving chooses with this model (finscore's own ProductChoice)."""
        return ProductChoice.of({category: tree.classes_.tolist() for category, tree in self.trees.items()},
                                self.class_prior, {category: floor["floor"] for category, floor in self.floors.items()})


def generate(rows: int, seed: int) -> list[dict[str, Any]]:
    return generate_customers(rows, seed)


def validate(records: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[RowReject]]:
    """Records that are a valid API request plus a catalogue product per category; the rest with reasons."""
    valid, rejects = [], []
    for row, record in enumerate(records):
        problems = []
        try:
            profile = CustomerProfile.model_validate({key: record[key] for key in PROFILE_FIELDS if key in record})
        except ValidationError as exc:
            profile = None
            problems += [f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()]
        for category in CATEGORIES:
            column = label_column(category)
            if record.get(column) not in PRODUCTS_BY_CATEGORY[category]:
                problems.append(f"{column}: {record.get(column)!r} is not a {category} product")
        if problems or profile is None:
            rejects.append(RowReject(row, "; ".join(problems)))
            continue
        valid.append({**profile.model_dump(), **{label_column(c): record[label_column(c)] for c in CATEGORIES}})
    return valid, rejects


def fit(train: Sequence[Mapping[str, Any]], validation: Sequence[Mapping[str, Any]], *, seed: int,
        config: Mapping[str, Any]) -> FittedRecommender:
    train_x, validation_x = feature_matrix(train), feature_matrix(validation)
    silhouette_by_k: dict[int, float] = {}
    segmenters: dict[int, Pipeline] = {}
    for k in config.get("cluster_counts", CLUSTER_COUNTS):
        segmenter = Pipeline([
            ("scaler", StandardScaler()),
            ("kmeans", KMeans(n_clusters=k, n_init=KMEANS_INITS, random_state=seed)),
        ]).fit(train_x)
        segmenters[k] = segmenter
        silhouette_by_k[k] = _silhouette(segmenter, validation_x, seed)
    best_k = max(silhouette_by_k, key=lambda k: (silhouette_by_k[k], -k))
    segmenter = segmenters[best_k]

    trees, accuracy_by_depth, class_prior = {}, {}, {}
    for category in CATEGORIES:
        train_y, validation_y = _labels(train, category), _labels(validation, category)
        candidates = {
            depth: DecisionTreeClassifier(max_depth=depth, min_samples_leaf=MIN_SAMPLES_LEAF, random_state=seed)
            .fit(train_x, train_y)
            for depth in config.get("tree_depths", TREE_DEPTHS)
        }
        accuracy_by_depth[category] = {
            depth: float(accuracy_score(validation_y, tree.predict(validation_x))) for depth, tree in candidates.items()
        }
        # Ties go to the shallower tree: same accuracy, simpler rules.
        best_depth = max(candidates, key=lambda depth: (accuracy_by_depth[category][depth], -depth))
        tree = trees[category] = candidates[best_depth]
        class_prior[category] = [float(np.mean(train_y == product)) for product in tree.classes_]

    target = float(config.get("target_precision", TARGET_PRECISION))
    unfloored = ProductChoice.of({category: tree.classes_.tolist() for category, tree in trees.items()}, class_prior)
    products, confidence = unfloored.choose([trees[category].predict_proba(validation_x) for category in CATEGORIES],
                                            _held(validation))
    floors = {
        category: confidence_floor(confidence[:, index], products[:, index] == _labels(validation, category), target)
        for index, category in enumerate(CATEGORIES)
    }
    return FittedRecommender(
        segmenter=segmenter,
        trees=trees,
        segments=describe_segments(segmenter, train_x),
        silhouette_by_k=silhouette_by_k,
        accuracy_by_depth=accuracy_by_depth,
        class_prior=class_prior,
        floors=floors,
        target_precision=target,
    )


def confidence_floor(confidence: np.ndarray, right: np.ndarray, target: float,
                     min_support: int = MIN_FLOOR_SUPPORT) -> dict[str, float]:
    """The lowest floor at which the recommendations kept (CONFIDENCE >= floor; NaN: nothing to
    recommend) are RIGHT at least TARGET of the time, keeping at least MIN_SUPPORT of them. When no
    floor reaches TARGET, the most precise one. With too few recommendations to judge, 0 (keep all)."""
    served = ~np.isnan(confidence)
    order = np.argsort(-confidence[served], kind="stable")
    ranked, hits = confidence[served][order], right[served][order]
    kept = np.arange(1, len(ranked) + 1)
    precision = np.cumsum(hits) / kept
    # A floor at a confidence keeps every recommendation at least that confident: the last of its ties.
    candidates = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True) & (kept >= min_support))
    if not len(candidates):
        return {"floor": 0.0, "validation_precision": float(hits.mean()) if len(hits) else 0.0,
                "validation_coverage": float(served.mean()) if len(served) else 0.0}
    reaching = candidates[precision[candidates] >= target]
    if len(reaching):
        best = reaching[-1]  # the lowest such floor: the most recommendations kept
    else:
        best = candidates[np.flatnonzero(precision[candidates] == precision[candidates].max())[-1]]
    return {"floor": float(ranked[best]), "validation_precision": float(precision[best]),
            "validation_coverage": float(kept[best] / len(confidence))}


def _held(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    return holdings([record.get("existing_products") for record in records], len(records))


def _labels(records: Sequence[Mapping[str, Any]], category: str) -> np.ndarray:
    column = label_column(category)
    return np.array([record[column] for record in records], dtype=object)


def _silhouette(segmenter: Pipeline, matrix: np.ndarray, seed: int) -> float:
    """Silhouette on at most SILHOUETTE_SAMPLE rows: the exact score is quadratic in the row count."""
    scaled = segmenter.named_steps["scaler"].transform(matrix)
    labels = segmenter.named_steps["kmeans"].predict(scaled)
    return float(silhouette_score(scaled, labels, sample_size=min(SILHOUETTE_SAMPLE, len(matrix)), random_state=seed))


def describe_segments(segmenter: Pipeline, train_x: np.ndarray) -> list[dict[str, Any]]:
    """Each cluster's centroid in original units, its share of customers, and a name from its profile."""
    centroids = segmenter.named_steps["scaler"].inverse_transform(segmenter.named_steps["kmeans"].cluster_centers_)
    counts = np.bincount(segmenter.predict(train_x), minlength=len(centroids))
    index = {feature: position for position, feature in enumerate(FEATURE_NAMES)}
    segments = []
    for cluster, centroid in enumerate(centroids):
        profile = {}
        for key, feature, is_log in SEGMENT_FIELDS:
            value = float(centroid[index[feature]])
            profile[key] = round(math.expm1(value) if is_log else value, 0 if is_log else 1)
        employment_mix = {
            status: round(min(max(float(centroid[index[f"employment_{status}"]]), 0.0), 1.0), 3)
            for status in EMPLOYMENT_STATUSES
        }
        segments.append({
            "cluster": cluster,
            "share": round(float(counts[cluster] / counts.sum()), 4),
            "profile": profile,
            "employment_mix": employment_mix,
        })
    for segment, segment_name in zip(segments, name_segments(segments)):
        segment["name"] = segment_name
    return segments


def _segment_names(profile: Mapping[str, float], employment: Mapping[str, float]) -> list[str]:
    """Names that fit a centroid, most telling first; the last one always applies."""
    names = []
    if employment["student"] >= 0.5 or profile["age"] < 26:
        names.append("Students and Starters")
    if employment["retired"] >= 0.5 or profile["age"] >= 62:
        names.append("Retirees")
    if profile["income"] >= 120_000:
        names.append("Affluent Savers" if profile["savings_balance"] >= 100_000 else "High Earners")
    if employment["unemployed"] >= 0.3 or profile["credit_score"] < 620 or profile["loan_behavior"] >= 3.5:
        names.append("Financially Stretched")
    if profile["loan_amount"] >= 100_000:
        names.append("Homeowning Families")
    if profile["age"] < 36 and profile["digital_engagement"] >= 6.5:
        names.append("Young Digital Professionals")
    if employment["self_employed"] >= 0.5:
        names.append("Business Owners")
    tier = "High-Income" if profile["income"] > HIGH_INCOME_ABOVE else (
        "Low-Income" if profile["income"] < LOW_INCOME_BELOW else "Middle-Income")
    names.append(f"{tier} Customers in their {int(profile['age'] // 10) * 10}s")
    return names


def name_segments(segments: Sequence[Mapping[str, Any]]) -> list[str]:
    """A distinct name per segment: each takes its most telling name that no earlier segment took."""
    taken: list[str] = []
    for segment in segments:
        options = _segment_names(segment["profile"], segment["employment_mix"])
        chosen = next((option for option in options if option not in taken), f"{options[-1]} ({segment['cluster']})")
        taken.append(chosen)
    return taken


def served_products(fitted: FittedRecommender, test_x: np.ndarray, test: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """What serving answers, (rows, categories): the most probable product not held when it clears the
    category's floor, else None."""
    products, _ = fitted.choice().choose([fitted.trees[category].predict_proba(test_x) for category in CATEGORIES],
                                         _held(test))
    return products


def served_metrics(products: np.ndarray, test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Per category and on average, how the served PRODUCTS (rows, categories; None: nothing served)
    fare against the labels: served accuracy, served precision and coverage."""
    metrics: dict[str, float] = {}
    for index, category in enumerate(CATEGORIES):
        served = ~np.equal(products[:, index], None)
        right = products[:, index] == _labels(test, category)
        metrics[f"{category}_served_accuracy"] = float(right.mean()) if len(right) else 0.0
        metrics[f"{category}_served_precision"] = float(right[served].mean()) if served.any() else 0.0
        metrics[f"{category}_coverage"] = float(served.mean()) if len(served) else 0.0
    for measure in ("served_accuracy", "served_precision", "coverage"):
        metrics[f"mean_{measure}"] = float(np.mean([metrics[f"{category}_{measure}"] for category in CATEGORIES]))
    return metrics


def evaluate(fitted: FittedRecommender, test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Held-out metrics of the recommendations as served (held products excluded, the floor applied),
    and beside them the raw accuracy of each tree's top class."""
    test_x = feature_matrix(test)
    served = served_products(fitted, test_x, test)
    metrics: dict[str, float] = {
        "silhouette": _silhouette(fitted.segmenter, test_x, seed=0),
        "clusters": len(fitted.segments),
        **served_metrics(served, test),
    }
    raw = []
    for index, category in enumerate(CATEGORIES):
        truth = _labels(test, category)
        predicted = np.where(np.equal(served[:, index], None), WITHHELD, served[:, index])
        metrics[f"{category}_macro_precision"] = float(precision_score(truth, predicted, average="macro", zero_division=0))
        metrics[f"{category}_macro_recall"] = float(recall_score(truth, predicted, average="macro", zero_division=0))
        metrics[f"{category}_raw_accuracy"] = float(accuracy_score(truth, fitted.trees[category].predict(test_x)))
        raw.append(metrics[f"{category}_raw_accuracy"])
    metrics["mean_raw_accuracy"] = float(np.mean(raw))
    return metrics


def gate_metrics(outputs: Mapping[str, np.ndarray], test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The served metrics of what the model answered on labelled records (the promotion gate's yardstick)."""
    return served_metrics(np.stack([outputs[product_column(category)] for category in CATEGORIES], axis=1), test)


def _tree_artifact(category: str) -> str:
    return f"{category}.onnx"


def export_onnx(fitted: FittedRecommender) -> dict[str, Artifact]:
    features = len(FEATURE_NAMES)
    artifacts = {SEGMENTER_ARTIFACT: Artifact(to_onnx(fitted.segmenter, features).SerializeToString(), "onnx", "serving")}
    for category, tree in fitted.trees.items():
        artifacts[_tree_artifact(category)] = Artifact(to_onnx(tree, features).SerializeToString(), "onnx", "serving")
    artifacts[NATIVE_ARTIFACT] = Artifact(json.dumps(native_document(fitted)).encode(), "json", "native")
    return artifacts


def native_document(fitted: FittedRecommender) -> dict[str, Any]:
    """The fitted scikit-learn parameters as JSON: an auditable record that needs no pickle to read."""
    scaler, kmeans = fitted.segmenter.named_steps["scaler"], fitted.segmenter.named_steps["kmeans"]
    return {
        "features": list(FEATURE_NAMES),
        "scaler": {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
        "kmeans": {"cluster_centers": kmeans.cluster_centers_.tolist()},
        "trees": {
            category: {
                "classes": tree.classes_.tolist(),
                "max_depth": tree.get_params()["max_depth"],
                "children_left": tree.tree_.children_left.tolist(),
                "children_right": tree.tree_.children_right.tolist(),
                "feature": tree.tree_.feature.tolist(),
                "threshold": tree.tree_.threshold.tolist(),
                "value": tree.tree_.value[:, 0, :].tolist(),
            }
            for category, tree in fitted.trees.items()
        },
    }


def judge_parity(rows: int, segment_agreement: float, trees: Mapping[str, tuple[float, float]]) -> ParityResult:
    """Apply PARITY_RULE to the measured differences; TREES maps category -> (max abs diff, label agreement)."""
    max_abs_diff = max((diff for diff, _ in trees.values()), default=0.0)
    passed = segment_agreement >= MIN_SEGMENT_AGREEMENT and all(
        diff <= PROBABILITY_TOLERANCE and agreement == 1.0 for diff, agreement in trees.values()
    )
    per_model = {"segmenter": {"label_agreement": segment_agreement, "min_label_agreement": MIN_SEGMENT_AGREEMENT}}
    for category, (diff, agreement) in trees.items():
        per_model[category] = {"max_abs_diff": diff, "label_agreement": agreement, "min_label_agreement": 1.0}
    return ParityResult(
        passed=passed,
        rows=rows,
        rule=PARITY_RULE,
        max_abs_diff=max_abs_diff,
        tolerance=PROBABILITY_TOLERANCE,
        label_agreement=min([segment_agreement, *(agreement for _, agreement in trees.values())]),
        min_label_agreement=MIN_SEGMENT_AGREEMENT,
        per_model=per_model,
    )


def parity(fitted: FittedRecommender, artifacts: Mapping[str, Artifact], test: Sequence[Mapping[str, Any]]) -> ParityResult:
    test_x = feature_matrix(test)
    [onnx_segments] = onnx_outputs(artifacts[SEGMENTER_ARTIFACT].data, test_x, [LABEL_OUTPUT])
    segment_agreement = float(np.mean(onnx_segments == fitted.segmenter.predict(test_x)))
    trees = {}
    for category, tree in fitted.trees.items():
        artifact = artifacts[_tree_artifact(category)].data
        diffs, _, _ = probability_differences(artifact, tree.predict_proba, test_x)
        [onnx_labels] = onnx_outputs(artifact, test_x, [LABEL_OUTPUT])
        agreement = float(np.mean(onnx_labels == tree.predict(test_x)))
        trees[category] = (float(diffs.max()) if len(diffs) else 0.0, agreement)
    return judge_parity(len(test_x), segment_agreement, trees)


def describe(fitted: FittedRecommender) -> ModelDescription:
    return ModelDescription(
        features=FEATURES,
        outputs=[
            OutputSpec(name="cluster", type="int", description="K-Means segment index"),
            OutputSpec(name="segment", type="string", description="Segment name"),
            OutputSpec(name="financial_health_score", type="float", description="0-100, derived"),
            OutputSpec(name="income_tier", type="category", description="low | medium | high, derived"),
            *(
                spec
                for category in CATEGORIES
                for spec in (
                    OutputSpec(name=product_column(category), type="category",
                               description=f"Recommended {category} product id, never one already held (null: "
                                           "every product of the category is held, or the best one is below "
                                           "the category's confidence floor)"),
                    OutputSpec(name=confidence_column(category), type="float",
                               description=f"Model probability of the best {category} product not held, 0-1 "
                                           "(also when withheld for being below the floor; null when all are held)"),
                )
            ),
        ],
        thresholds={
            "income_tier": {"low_below": LOW_INCOME_BELOW, "high_above": HIGH_INCOME_ABOVE},
            "financial_health_score": {
                "weights": {"income": 0.40, "credit": 0.25, "savings": 0.20, "spending": 0.15},
                "income_cap": INCOME_CAP,
                "savings_cap": SAVINGS_CAP,
                "credit_range": [CREDIT_MIN, CREDIT_MAX],
            },
            "ratio_cap": RATIO_CAP,
            "confidence_floor": {category: floor["floor"] for category, floor in fitted.floors.items()},
            "confidence_floor_target_precision": fitted.target_precision,
        },
        extra={
            "segmenter": {
                "artifact": SEGMENTER_ARTIFACT,
                "clusters": len(fitted.segments),
                "silhouette_by_k": {str(k): value for k, value in fitted.silhouette_by_k.items()},
            },
            "segments": fitted.segments,
            "categories": {
                category: {
                    "artifact": _tree_artifact(category),
                    "classes": tree.classes_.tolist(),
                    "class_prior": fitted.class_prior[category],
                    "confidence_floor": fitted.floors[category]["floor"],
                    "confidence_floor_on_validation": fitted.floors[category],
                    "max_depth": tree.get_params()["max_depth"],
                    "validation_accuracy_by_depth": {
                        str(depth): value for depth, value in fitted.accuracy_by_depth[category].items()
                    },
                }
                for category, tree in fitted.trees.items()
            },
        },
        hyperparameters={
            "clusters": len(fitted.segments),
            "clusters_chosen_by": "validation silhouette over k in " + ", ".join(map(str, fitted.silhouette_by_k)),
            "kmeans_inits": KMEANS_INITS,
            "tree_max_depth": {category: tree.get_params()["max_depth"] for category, tree in fitted.trees.items()},
            "tree_depth_chosen_by": "validation accuracy over depths " + ", ".join(
                map(str, next(iter(fitted.accuracy_by_depth.values())))),
            "min_samples_leaf": MIN_SAMPLES_LEAF,
            "confidence_floor_chosen_by": f"lowest validation floor with precision >= {fitted.target_precision} "
                                          f"keeping >= {MIN_FLOOR_SUPPORT} recommendations (else the most precise)",
        },
    )


def batch_file(rows: int, seed: int) -> bytes:
    """A CSV of ROWS customer profiles for the batch benchmark (held products as ids separated by ';'),
    drawn with replacement from generated customers."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    customers = generate_customers(5_000, seed)
    picks = pa.array(np.random.default_rng(seed).integers(0, len(customers), rows))
    columns = {}
    for field in PROFILE_FIELDS:
        values = [";".join(c[field]) if field == "existing_products" else c[field] for c in customers]
        columns[field] = pa.array(values).take(picks)
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.table(columns), sink, pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes()
