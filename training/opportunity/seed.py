"""The opportunity product's sample data for the local run: the generated businesses, every location
with the reviews of its last two months (scored with VADER, stored once per text) and their sums, and
the whole indicator history.

Seeding again with the same arguments finds its marker and writes nothing. The champion is not
needed to seed (no score is stored), but the hook takes it like every product's.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from finscore import resources
from finscore.models.champion import LoadedModel
from finscore.products.opportunity.repository import (
    CATALOG,
    SERIES,
    BusinessStore,
    IndicatorStore,
    LocationStore,
    ReviewStore,
)
from finscore.products.opportunity.sentiment import compound_scores, text_key
from finscore.products.opportunity.spec import BUSINESSES_TABLE, INDICATORS_TABLE, LOCATIONS_TABLE, REVIEWS_TABLE
from finscore.s3 import Bucket
from training.opportunity.generator import generate_world
from training.opportunity.trainer import ROWS_PER_BUSINESS, default_rows

MARKER_KEY = "seed/opportunity.json"
REVIEW_MONTHS = 2


def seed(names: dict[str, str], champion: LoadedModel | None = None,
         businesses: int = default_rows // ROWS_PER_BUSINESS, seed: int = 7) -> dict[str, Any]:
    """Seed the opportunity tables from NAMES ({ENV_VAR: resource name}) with the world the default model
    trains on (same businesses and seed)."""
    started = time.perf_counter()
    marker = Bucket(names[resources.DATA_BUCKET.env_var])
    wanted = {"businesses": businesses, "seed": seed, "review_months": REVIEW_MONTHS}
    previous = marker.read_json(MARKER_KEY)
    if previous and all(previous.get(key) == value for key, value in wanted.items()):
        return {**previous, "skipped": True}

    world = generate_world(businesses=businesses, seed=seed)
    counts = Counter(business["location"] for business in world.businesses)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    reviews: dict[tuple[str, str], dict[str, Any]] = {}
    for index, location in enumerate(world.locations):
        texts = [text for month in world.reviews[index][-REVIEW_MONTHS:] for text in month]
        for position, (text, compound) in enumerate(zip(texts, compound_scores(texts))):
            # Spread over the last 60 days, the latest two days ago.
            received = now - timedelta(days=2 + 58 * (len(texts) - 1 - position) / max(len(texts) - 1, 1))
            reviews.setdefault((location, text_key(text)), {
                "location": location, "text_key": text_key(text), "text": text, "compound": compound,
                "received_at": received.isoformat()})
    sums: dict[str, dict[str, Any]] = {}
    for review in reviews.values():
        entry = sums.setdefault(review["location"], {"review_count": 0, "compound_sum": 0.0, "last_review_at": ""})
        entry["review_count"] += 1
        entry["compound_sum"] += review["compound"]
        entry["last_review_at"] = max(entry["last_review_at"], review["received_at"])
    locations = []
    for location in world.locations:
        neighbourhood, _, city = location.rpartition(", ")
        locations.append({"location": location, "catalog": CATALOG, "city": city, "neighbourhood": neighbourhood,
                          "business_count": counts.get(location, 0),
                          **{name: value for name, value in sums.get(location, {}).items() if value != ""}})
    written = BusinessStore(names[BUSINESSES_TABLE.env_var]).put_many(world.businesses)
    LocationStore(names[LOCATIONS_TABLE.env_var]).put_many(locations)
    stored_reviews = ReviewStore(names[REVIEWS_TABLE.env_var]).put_many(reviews.values())
    IndicatorStore(names[INDICATORS_TABLE.env_var]).put_many({"series": SERIES, **item} for item in world.indicators)
    report = {**wanted, "locations": len(locations), "businesses_written": written, "reviews": stored_reviews,
              "indicators": len(world.indicators), "seconds": round(time.perf_counter() - started, 1)}
    marker.write_json(MARKER_KEY, report)
    return report
