"""The recommend model on the serving path: loaded once from its manifest and ONNX artifacts, then pure.

A Recommender holds five ONNX sessions: the scaler + K-Means segmenter and one decision tree per
category. `predict` answers any number of profiles with the segment, the derived financial health
and income tier, and per category the most probable product the customer does not hold yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

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
class ProductChoice:
    """Per row and category, the most probable product the customer does not hold, withheld when its
    probability is below the category's confidence floor.

    Every category's classes sit in one (categories, width) table, the narrower ones padded with slots
    that can never win, so that one array operation chooses for all categories at once: the API asks
    for a single profile, where each operation costs its fixed overhead, and batch files for a million.
    """

    categories: tuple[str, ...]
    products: np.ndarray  # (categories, width) product ids, None in padding
    catalogue_columns: np.ndarray  # each slot's column in a holdings matrix (0 in padding)
    blockable: np.ndarray  # a real slot whose product a customer can already hold
    tie_break: np.ndarray  # the class prior x TIE_BREAK_WEIGHT; -inf in padding
    floors: np.ndarray  # (categories,) the least probability a recommendation may have

    @classmethod
    def of(cls, classes: Mapping[str, Sequence[str]], priors: Mapping[str, Sequence[float]],
           floors: Mapping[str, float] | None = None) -> ProductChoice:
        """From each category's CLASSES (the product id of each probability column), PRIORS (how
        often customers take each, which breaks exact ties) and confidence FLOORS (none: 0)."""
        categories = tuple(classes)
        width = max(len(classes[category]) for category in categories)
        shape = (len(categories), width)
        products = np.full(shape, None, dtype=object)
        catalogue_columns = np.zeros(shape, dtype=np.intp)
        blockable = np.zeros(shape, dtype=bool)
        tie_break = np.full(shape, -np.inf)
        for row, category in enumerate(categories):
            ids, prior = tuple(classes[category]), np.asarray(priors[category], dtype=np.float64)
            if prior.shape != (len(ids),):
                raise ValueError(f"The {category} model has {len(ids)} classes but {prior.size} priors")
            slots = slice(0, len(ids))
            products[row, slots] = ids
            catalogue_columns[row, slots] = [PRODUCT_INDEX[product] for product in ids]
            blockable[row, slots] = [PRODUCTS_BY_ID[product].holdable for product in ids]
            tie_break[row, slots] = prior * TIE_BREAK_WEIGHT
        floor_values = np.array([float((floors or {}).get(category, 0.0)) for category in categories])
        return cls(categories, products, catalogue_columns, blockable, tie_break, floor_values)

    def choose(self, probabilities: Sequence[np.ndarray], held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PROBABILITIES holds each category's (rows, classes) class probabilities, HELD the rows'
        holdings over the catalogue. Returns the chosen products and their probabilities, both (rows,
        categories): None and NaN where the customer holds every product of the category; None and
        the probability where it is below the category's floor (see `withheld`)."""
        count = len(held)
        padded = np.zeros((count, *self.products.shape))
        for row, category_probabilities in enumerate(probabilities):
            padded[:, row, :category_probabilities.shape[1]] = category_probabilities
        scores = padded + self.tie_break
        scores[held[:, self.catalogue_columns] & self.blockable] = -np.inf
        chosen = (np.arange(count)[:, np.newaxis], np.arange(len(self.categories)), scores.argmax(axis=2))
        none_left = scores[chosen] == -np.inf
        products = self.products[chosen[1:]]
        confidence = np.round(padded[chosen], 4)
        if none_left.any():
            confidence[none_left] = np.nan
        products[none_left | (confidence < self.floors)] = None
        return products, confidence

    def withheld(self, category: str, confidence: float | None) -> str | None:
        """Why CATEGORY has no recommendation (None when it has one), from the confidence choose gave."""
        floor = float(self.floors[self.categories.index(category)])
        if confidence is None or confidence != confidence:
            return f"the customer already holds every {category} product"
        if confidence < floor:
            return f"confidence {confidence:.4f} is below the {category} floor {floor:.4f}"
        return None


@dataclass(frozen=True)
class CategoryTree:
    category: str
    session: ort.InferenceSession
    input_name: str


@dataclass(frozen=True)
class Recommender:
    segmenter: ort.InferenceSession
    segmenter_input: str
    segment_names: tuple[str, ...]
    trees: tuple[CategoryTree, ...]
    choice: ProductChoice
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
        specs = {category: extra["categories"][category] for category in CATEGORIES}
        for category, spec in specs.items():
            unknown = [product for product in spec["classes"] if product not in PRODUCTS_BY_CATEGORY[category]]
            if unknown:
                raise ValueError(f"The {category} model predicts products outside the catalogue: {unknown}")
        # A version trained before confidence floors existed withholds nothing.
        choice = ProductChoice.of({category: spec["classes"] for category, spec in specs.items()},
                                  {category: spec["class_prior"] for category, spec in specs.items()},
                                  {category: spec.get("confidence_floor", 0.0) for category, spec in specs.items()})
        sessions = {category: session_from_bytes(read(spec["artifact"])) for category, spec in specs.items()}
        return cls(
            segmenter=segmenter,
            segmenter_input=segmenter.get_inputs()[0].name,
            segment_names=tuple(segment["name"] for segment in segments),
            trees=tuple(CategoryTree(category, session, session.get_inputs()[0].name)
                        for category, session in sessions.items()),
            choice=choice,
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
        probabilities = [tree.session.run(PROBABILITY_OUTPUT, {tree.input_name: matrix})[0] if count
                         else np.empty((0, 0)) for tree in self.trees]
        products, confidence = self.choice.choose(probabilities, held)
        for index, category in enumerate(self.choice.categories):
            outputs[product_column(category)] = products[:, index]
            outputs[confidence_column(category)] = confidence[:, index]
        return outputs
