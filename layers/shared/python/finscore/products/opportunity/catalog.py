"""The opportunity product's vocabulary: business types, the score categories and their cut-offs,
and how a location is written.

A location is a neighbourhood of a city written "<neighbourhood>, <city>" (e.g. "Koramangala,
Bengaluru"); the same text keys the businesses' location index, the location's sentiment aggregates
and its reviews, so it is normalised once here (spaces collapsed, case kept).
"""

from __future__ import annotations

import re

BUSINESS_TYPES = ("grocery", "restaurant", "cafe", "salon", "pharmacy", "clothing", "electronics_repair",
                  "tailoring")

# Categories of the 0-100 opportunity score: high at or above 65 (about the top sixth of the generated
# businesses), medium at or above 50, low below.
# Fixed by the product (not learned), so a score means the same category in every model version.
HIGH_FROM, MEDIUM_FROM = 65.0, 50.0
CATEGORIES = ("high", "medium", "low")
CATEGORY_TEXT = f"high: score >= {HIGH_FROM:g}; medium: {MEDIUM_FROM:g} <= score < {HIGH_FROM:g}; low: below {MEDIUM_FROM:g}"

_SPACES = re.compile(r"\s+")
_TYPE_ALIASES = {"electronics": "electronics_repair", "repair": "electronics_repair", "tailor": "tailoring",
                 "pharmacist": "pharmacy", "chemist": "pharmacy", "medical": "pharmacy", "coffee": "cafe",
                 "coffee_shop": "cafe", "barber": "salon", "beauty": "salon", "restaurants": "restaurant",
                 "food": "restaurant", "kirana": "grocery", "groceries": "grocery", "apparel": "clothing",
                 "garments": "clothing"}


def location_text(value: object) -> object:
    """A location as stored: surrounding spaces dropped and inner runs of spaces collapsed."""
    return _SPACES.sub(" ", value).strip() if isinstance(value, str) else value


def business_type_name(value: object) -> object:
    """A business type in the catalogue's spelling ("Electronics Repair" -> electronics_repair)."""
    if not isinstance(value, str):
        return value
    name = _SPACES.sub("_", value.strip().lower()).replace("-", "_")
    return _TYPE_ALIASES.get(name, name)


def category_of(score: float) -> str:
    return "high" if score >= HIGH_FROM else "medium" if score >= MEDIUM_FROM else "low"
