"""The recommend model on the serving path: loaded once from its manifest and ONNX artifacts, then pure.

A Recommender holds five ONNX sessions: the scaler + K-Means segmenter and one decision tree per
category. `predict` answers one profile; `predict_matrix` answers many (batch scoring and the
training promotion gate, which must judge the champion exactly as it serves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import onnxruntime as ort

from finscore.models.manifest import Manifest
from finscore.models.onnx import session_from_bytes
from finscore.recommend.catalog import CATEGORIES, PRODUCTS_BY_CATEGORY, PRODUCTS_BY_ID
from finscore.recommend.features import FEATURE_NAMES, profile_features

SEGMENT_OUTPUT = ["label"]
PROBABILITY_OUTPUT = ["probabilities"]
# Added to the probabilities before taking the best product: far below any difference between two
# leaf probabilities, so it only breaks exact ties, in favour of the product customers take more often.
TIE_BREAK_WEIGHT = 1e-6


@dataclass(frozen=True)
class CategoryModel:
    category: str
    session: ort.InferenceSession
    input_name: str
    classes: tuple[str, ...]  # product id of each probability column
    holdable_columns: dict[str, int]  # product id -> column, for products a customer can already hold
    tie_break: np.ndarray


@dataclass(frozen=True)
class Recommender:
    segmenter: ort.InferenceSession
    segmenter_input: str
    segment_names: tuple[str, ...]
    categories: tuple[CategoryModel, ...]
    segments: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Recommendation:
    cluster: int
    segment: str
    financial_health_score: float
    income_tier: str
    products: dict[str, str | None]  # None: every product of the category is already held
    confidence_scores: dict[str, float | None]


@dataclass(frozen=True)
class MatrixPrediction:
    clusters: np.ndarray
    products: dict[str, np.ndarray]  # category -> product id per row, held products not considered
    confidence_scores: dict[str, np.ndarray]


def load_recommender(manifest: Manifest, read: Callable[[str], bytes]) -> Recommender:
    """Build the sessions named by MANIFEST; READ returns an artifact's verified bytes by name."""
    if tuple(manifest.feature_names) != FEATURE_NAMES:
        raise ValueError(
            f"recommend {manifest.version} was trained on features {manifest.feature_names}, "
            f"but this code computes {list(FEATURE_NAMES)}"
        )
    extra = manifest.extra
    segmenter = session_from_bytes(read(extra["segmenter"]["artifact"]))
    segments = tuple(sorted(extra["segments"], key=lambda segment: segment["cluster"]))
    if [segment["cluster"] for segment in segments] != list(range(extra["segmenter"]["clusters"])):
        raise ValueError(f"recommend {manifest.version}: segment profiles do not cover every cluster")
    categories = tuple(_load_category(category, extra["categories"][category], read) for category in CATEGORIES)
    return Recommender(
        segmenter=segmenter,
        segmenter_input=segmenter.get_inputs()[0].name,
        segment_names=tuple(segment["name"] for segment in segments),
        categories=categories,
        segments=segments,
    )


def _load_category(category: str, spec: Mapping[str, Any], read: Callable[[str], bytes]) -> CategoryModel:
    classes = tuple(spec["classes"])
    unknown = [product for product in classes if product not in PRODUCTS_BY_CATEGORY[category]]
    if unknown:
        raise ValueError(f"The {category} model predicts products outside the catalogue: {unknown}")
    session = session_from_bytes(read(spec["artifact"]))
    prior = np.asarray(spec["class_prior"], dtype=np.float64)
    if prior.shape != (len(classes),):
        raise ValueError(f"The {category} model has {len(classes)} classes but {prior.size} priors")
    return CategoryModel(
        category=category,
        session=session,
        input_name=session.get_inputs()[0].name,
        classes=classes,
        holdable_columns={product: column for column, product in enumerate(classes) if PRODUCTS_BY_ID[product].holdable},
        tie_break=prior * TIE_BREAK_WEIGHT,
    )


def best_product(model: CategoryModel, probabilities: np.ndarray, held: set[str] | frozenset[str]) -> tuple[str | None, float | None]:
    """The most probable product the customer does not hold yet, and its probability."""
    scores = probabilities + model.tie_break
    blocked = [column for product, column in model.holdable_columns.items() if product in held]
    if blocked:
        scores[blocked] = -np.inf
    column = int(scores.argmax())
    if scores[column] == -np.inf:
        return None, None
    return model.classes[column], float(probabilities[column])


def predict(recommender: Recommender, profile: Mapping[str, Any]) -> Recommendation:
    """Segment PROFILE and recommend one product per category, never one it already holds."""
    features = profile_features(profile)
    row = features.row
    cluster = int(recommender.segmenter.run(SEGMENT_OUTPUT, {recommender.segmenter_input: row})[0][0])
    held = frozenset(profile.get("existing_products") or ())
    products: dict[str, str | None] = {}
    confidence: dict[str, float | None] = {}
    for model in recommender.categories:
        probabilities = model.session.run(PROBABILITY_OUTPUT, {model.input_name: row})[0][0]
        products[model.category], confidence[model.category] = best_product(model, probabilities, held)
    return Recommendation(
        cluster=cluster,
        segment=recommender.segment_names[cluster],
        financial_health_score=features.financial_health_score,
        income_tier=features.income_tier,
        products=products,
        confidence_scores=confidence,
    )


def predict_matrix(recommender: Recommender, matrix: np.ndarray) -> MatrixPrediction:
    """Clusters and the best product per category for every row of a feature matrix."""
    clusters = recommender.segmenter.run(SEGMENT_OUTPUT, {recommender.segmenter_input: matrix})[0]
    products, confidence = {}, {}
    for model in recommender.categories:
        probabilities = model.session.run(PROBABILITY_OUTPUT, {model.input_name: matrix})[0]
        columns = (probabilities + model.tie_break).argmax(axis=1)
        products[model.category] = np.asarray(model.classes, dtype=object)[columns]
        confidence[model.category] = probabilities[np.arange(len(columns)), columns]
    return MatrixPrediction(clusters=np.asarray(clusters, dtype=np.int64), products=products, confidence_scores=confidence)
