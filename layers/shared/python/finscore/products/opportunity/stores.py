"""The opportunity product's stores as the scoring paths use them: a location's sentiment and the
economy in effect, and the enrich hook that completes batch rows with them."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import numpy as np

from finscore.products.columns import Columns, distinct_codes, number_column
from finscore.products.opportunity.features import ECONOMY_FIELDS
from finscore.products.opportunity.repository import BusinessStore, IndicatorStore, LocationStore, ReviewStore
from finscore.products.opportunity.sentiment import aggregates
from finscore.products.opportunity.settings import (
    OpportunityApiSettings,
    OpportunityContextSettings,
    OpportunityReviewsSettings,
)
from finscore.remembered import Remembered
from finscore.settings import load_settings


@lru_cache(maxsize=1)
def location_store() -> LocationStore:
    return LocationStore(load_settings(OpportunityContextSettings).locations_table)


@lru_cache(maxsize=1)
def indicator_store() -> IndicatorStore:
    return IndicatorStore(load_settings(OpportunityContextSettings).indicators_table)


@lru_cache(maxsize=1)
def business_store() -> BusinessStore:
    return BusinessStore(load_settings(OpportunityApiSettings).businesses_table)


@lru_cache(maxsize=1)
def review_stores() -> tuple[ReviewStore, LocationStore]:
    settings = load_settings(OpportunityReviewsSettings)
    return ReviewStore(settings.reviews_table), LocationStore(settings.locations_table)


# How long a warm function answers a location from the businesses it last read. Businesses change only
# when the table is loaded (training data, the local seed), never through the API, while a location's
# score reads all of them: re-reading ~50 items per request cost more than scoring them. A location's
# sentiment and the indicators are read afresh on every request.
BUSINESSES_TTL_S = 30.0


@lru_cache(maxsize=1)
def _remembered_businesses() -> Remembered[list[dict[str, Any]]]:
    return Remembered()


def businesses_in(location: str) -> list[dict[str, Any]]:
    """Every business of LOCATION, as read at most BUSINESSES_TTL_S seconds ago by this function."""
    return _remembered_businesses().get(location, lambda: business_store().in_location(location), BUSINESSES_TTL_S)


def reset_stores() -> None:
    """Forget the cached stores and what they read (tests that change the environment call this)."""
    for getter in (location_store, indicator_store, business_store, review_stores, _remembered_businesses):
        getter.cache_clear()


def now() -> datetime:
    return datetime.now(timezone.utc)


def economy(on: datetime | None = None) -> dict[str, Any] | None:
    """The indicators in effect now (or ON): the latest stored with an effective date on or before it."""
    return indicator_store().latest((on or now()).date().isoformat())


def stored_context(columns: Columns, count: int) -> tuple[Columns, dict[int, str]]:
    """The product's enrich hook: a row without sentiment_score takes its location's (one batched read
    of the distinct locations), a row without inflation_rate or interest_rate the indicators in effect.
    A row that still lacks one (unknown location, no indicators stored) cannot be scored, with the reason."""
    if count == 0:
        return columns, {}
    filled: Columns = dict(columns)
    unscorable: dict[int, str] = {}
    sentiment = number_column(columns, "sentiment_score", count).copy()
    missing = np.flatnonzero(np.isnan(sentiment))
    places = columns.get("location")
    if len(missing) and places is not None and places.dtype == object:
        # Each distinct location is read and looked up once: a file of a million rows names a few dozen.
        distinct, inverse = distinct_codes(places[missing])
        wanted = sorted({place for place in distinct if isinstance(place, str)})
        found = location_store().many(wanted) if wanted else {}
        moment = now()
        scores = np.array([aggregates(found[place], moment)["sentiment_score"] if place in found else np.nan
                           for place in distinct], dtype=np.float64)
        sentiment[missing] = scores[inverse]
    for row in np.flatnonzero(np.isnan(sentiment)).tolist():
        place = places[row] if places is not None else None
        unscorable[row] = ("sentiment_score: not given, and its location is unknown" if isinstance(place, str)
                           else "sentiment_score: not given, and no location to take it from")
    filled["sentiment_score"] = sentiment
    needed = {name: number_column(columns, name, count).copy() for name in ECONOMY_FIELDS}
    if any(np.isnan(values).any() for values in needed.values()):
        current = economy()
        for name, values in needed.items():
            gaps = np.isnan(values)
            if current is not None:
                values[gaps] = float(current[name])
            else:
                for row in np.flatnonzero(gaps).tolist():
                    unscorable.setdefault(row, f"{name}: not given, and no economic indicators are stored")
    filled.update(needed)
    return filled, unscorable
