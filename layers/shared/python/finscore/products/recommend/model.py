"""The recommend model on the serving path: loaded once from its manifest and ONNX artifacts, then pure.

A Recommender holds five ONNX sessions: the scaler + K-Means segmenter and one decision tree per
category. `predict` answers any number of profiles with the segment, the derived financial health
and income tier, and per category the most probable product the customer does not hold yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import onnxruntime as ort

from finscore.models.manifest import Manifest
from finscore.models.onnx import session_from_bytes
from finscore.products.recommend.catalog import CATEGORIES, PRODUCT_INDEX, PRODUCTS_BY_CATEGORY, PRODUCTS_BY_ID, holdings
from finscore.products.recommend.features import FEATURE_NAMES, INCOME_TIERS

SEGMENT_OUTPUT = ["label"]
PROBABILITY_OUTPUT = ["probabilities"]
# Added to the probabilities before taking the best product: far below any difference between two
# leaf probabilities, so it only breaks exact ties, in favour of the product customers take more often.
TIE_BREAK_WEIGHT = 1e-6
HEALTH = FEATURE_NAMES.index("financial_health_score")
TIER = FEATURE_NAMES.index("income_tier")


def product_column(category: str) -> str:
    return f"{category}_product"


def confidence_column(category: str) -> str:
    return f"{category}_confidence"


OUTPUTS = ("cluster", "segment", "financial_health_score", "income_tier",
           *(column for category in CATEGORIES for column in (product_column(category), confidence_column(category))))


@dataclass(frozen=True)
class CategoryModel:
    category: str
    session: ort.InferenceSession
    input_name: str
    classes: tuple[str, ...]  # product id of each probability column
    holdable: np.ndarray  # bool per class: a product a customer can already hold
    tie_break: np.ndarray

    def best_not_held(self, matrix: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row of MATRIX, the most probable product the customer does not hold (None when they hold
        them all) and its probability (NaN then); HELD is the rows' holdings over the catalogue."""
        probabilities = self.session.run(PROBABILITY_OUTPUT, {self.input_name: matrix})[0].astype(np.float64) \
            if len(matrix) else np.empty((0, len(self.classes)))
        return self.choose(probabilities, held)

    def choose(self, probabilities: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The choice of best_not_held from the trees' class PROBABILITIES (rows, classes)."""
        count = len(probabilities)
        scores = probabilities + self.tie_break
        blocked = held[:, [PRODUCT_INDEX[product] for product in self.classes]] & self.holdable
        scores[blocked] = -np.inf
        columns = scores.argmax(axis=1) if count else np.empty(0, np.int64)
        rows = np.arange(count)
        none_left = np.isneginf(scores[rows, columns])
        products = np.asarray(self.classes, dtype=object)[columns]
        products[none_left] = None
        confidence = np.where(none_left, np.nan, np.round(probabilities[rows, columns], 4))
        return products, confidence


@dataclass(frozen=True)
class Recommender:
    segmenter: ort.InferenceSession
    segmenter_input: str
    segment_names: tuple[str, ...]
    categories: tuple[CategoryModel, ...]
    segments: tuple[dict[str, Any], ...]

    @classmethod
    def load(cls, manifest: Manifest, read: Callable[[str], bytes]) -> Recommender:
        """Build the sessions named by MANIFEST; READ returns an artifact's verified bytes by name."""
        manifest.require_features(FEATURE_NAMES)
        outputs = tuple(output.name for output in manifest.outputs)
        if outputs != OUTPUTS:
            raise ValueError(f"recommend {manifest.version} declares outputs {list(outputs)}, this code answers "
                             f"{list(OUTPUTS)}")
        extra = manifest.extra
        segmenter = session_from_bytes(read(extra["segmenter"]["artifact"]))
        segments = tuple(sorted(extra["segments"], key=lambda segment: segment["cluster"]))
        if [segment["cluster"] for segment in segments] != list(range(extra["segmenter"]["clusters"])):
            raise ValueError(f"recommend {manifest.version}: segment profiles do not cover every cluster")
        categories = tuple(_load_category(category, extra["categories"][category], read) for category in CATEGORIES)
        return cls(
            segmenter=segmenter,
            segmenter_input=segmenter.get_inputs()[0].name,
            segment_names=tuple(segment["name"] for segment in segments),
            categories=categories,
            segments=segments,
        )

    def predict(self, matrix: np.ndarray, columns: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Segment and best product per category of every row, never a product the customer already
        holds (columns["existing_products"])."""
        count = len(matrix)
        clusters = self.segmenter.run(SEGMENT_OUTPUT, {self.segmenter_input: matrix})[0].astype(np.int64) \
            if count else np.empty(0, np.int64)
        held = holdings(columns.get("existing_products"), count)
        outputs: dict[str, np.ndarray] = {
            "cluster": clusters,
            "segment": np.asarray(self.segment_names, dtype=object)[clusters],
            "financial_health_score": np.round(matrix[:, HEALTH].astype(np.float64), 1),
            "income_tier": np.asarray(INCOME_TIERS, dtype=object)[matrix[:, TIER].astype(np.int64)],
        }
        for model in self.categories:
            products, confidence = model.best_not_held(matrix, held)
            outputs[product_column(model.category)] = products
            outputs[confidence_column(model.category)] = confidence
        return outputs


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
        holdable=np.array([PRODUCTS_BY_ID[product].holdable for product in classes]),
        tie_break=prior * TIE_BREAK_WEIGHT,
    )
