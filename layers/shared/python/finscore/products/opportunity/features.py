"""The opportunity feature module: the one place a business in its location and economy becomes model
inputs, for training and serving (numpy only).

- sentiment_score: the location's mean VADER compound (-1..1), from its stored reviews at scoring time;
- revenue (annual, INR), age (years in business), rating (1-5): the business's own;
- inflation_rate and interest_rate (percent): the latest economic indicators at scoring time;
- business_type as a category index. Every version's matrix carries it (drift watches it); a version
  feeds its forest only the features it was chosen with (the manifest's model inputs), and training
  keeps business_type only where it improves the validation error.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from finscore.models.manifest import FeatureSpec
from finscore.products.columns import as_matrix, category_codes, number_column
from finscore.products.opportunity.catalog import BUSINESS_TYPES

_TYPE_INDEX = {name: index for index, name in enumerate(BUSINESS_TYPES)}

# The fields a scoring row may leave out: the product's stores fill them (location and economy).
LOCATION_FIELDS = ("sentiment_score",)
ECONOMY_FIELDS = ("inflation_rate", "interest_rate")
NUMERIC_FEATURES = ("sentiment_score", "revenue", "age", "rating", "inflation_rate", "interest_rate")
FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(name="sentiment_score", description="Mean VADER compound of the location's reviews, -1..1"),
    FeatureSpec(name="revenue", description="Annual revenue of the business, INR"),
    FeatureSpec(name="age", description="Years in business"),
    FeatureSpec(name="rating", description="Customer rating of the business, 1-5"),
    FeatureSpec(name="inflation_rate", description="Latest consumer price inflation, percent a year"),
    FeatureSpec(name="interest_rate", description="Latest policy interest rate, percent a year"),
    FeatureSpec(name="business_type", type="category", description="Business type index",
                categories=list(BUSINESS_TYPES)),
)
FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)


def scoring_matrix(columns: Mapping[str, Any]) -> np.ndarray:
    """The float32 model input of every row of COLUMNS (NaN where a value is missing)."""
    count = len(next(iter(columns.values()))) if columns else 0
    values = [*(number_column(columns, name, count) for name in NUMERIC_FEATURES),
              category_codes(columns, "business_type", _TYPE_INDEX, count)]
    return as_matrix(values, count)


class BusinessFeatures:
    """The opportunity FeatureSet."""

    specs = FEATURES
    matrix = staticmethod(scoring_matrix)


FEATURE_SET = BusinessFeatures()
