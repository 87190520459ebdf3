"""Review texts in: validated one by one, scored with VADER, stored once per text, and their locations'
sentiment sums updated.

POST /v1/opportunities/reviews and files dropped under the reviews ingest prefix (CSV, JSON Lines,
Parquet or Excel .xlsx with columns location and text; each with a report of its rejected rows, once
per ETag) take this path. A text is stored under (location, hash of its text) only if that key is new,
and only a newly stored text is added to its location's sums, so a replayed request or a redelivered
file counts nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Sequence

from pydantic import ValidationError

from finscore.ingest_files import ingest_file
from finscore.observability import logger
from finscore.products.opportunity.records import Review
from finscore.products.opportunity.repository import LocationStore, ReviewStore
from finscore.products.opportunity.sentiment import aggregates, compound_scores, text_key
from finscore.products.opportunity.settings import OpportunityIngestSettings
from finscore.products.opportunity.spec import INGEST_REPORTS_PREFIX, REVIEWS_QUEUE
from finscore.products.opportunity.stores import now, review_stores
from finscore.records import describe_errors
from finscore.s3 import Bucket
from finscore.settings import load_settings


@dataclass(frozen=True)
class InvalidReview:
    index: int
    fields: list[str]
    reason: str


@dataclass(frozen=True)
class ScoredText:
    index: int
    location: str
    compound: float
    duplicate: bool


@dataclass
class ReviewsResult:
    received: int
    scored: list[ScoredText] = field(default_factory=list)
    invalid: list[InvalidReview] = field(default_factory=list)
    # Each location's aggregates after the texts were added (finscore.products.opportunity.sentiment).
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def inserted(self) -> int:
        return sum(not text.duplicate for text in self.scored)

    @property
    def duplicates(self) -> int:
        return sum(text.duplicate for text in self.scored)


def ingest_reviews(rows: Sequence[Any], reviews: ReviewStore, locations: LocationStore,
                   indexes: Sequence[int] | None = None, moment: datetime | None = None) -> ReviewsResult:
    """Validate, score, store and aggregate ROWS ({location, text}); INDEXES gives each row's index as
    the sender sees it (default 0..n-1). A row of a location that is not stored is refused."""
    indexes = list(indexes) if indexes is not None else list(range(len(rows)))
    moment = moment or now()
    result = ReviewsResult(received=len(rows))
    valid: list[tuple[int, Review]] = []
    for index, row in zip(indexes, rows):
        if not isinstance(row, dict):
            result.invalid.append(InvalidReview(index, ["record"], f"expected an object of fields, got {type(row).__name__}"))
            continue
        try:
            valid.append((index, Review.model_validate(row)))
        except ValidationError as exc:
            fields = list(dict.fromkeys(".".join(str(part) for part in error["loc"]) or "record"
                                        for error in exc.errors()))
            result.invalid.append(InvalidReview(index, fields, describe_errors(exc)))
    known = locations.many(sorted({review.location for _, review in valid})) if valid else {}
    kept = []
    for index, review in valid:
        if review.location in known:
            kept.append((index, review))
        else:
            result.invalid.append(InvalidReview(index, ["location"], f"location: {review.location!r} is not a known "
                                                                     "location (GET /v1/opportunities/locations)"))
    compounds = compound_scores([review.text for _, review in kept])
    stamp = moment.isoformat(timespec="seconds")
    added: dict[str, list[float]] = {}
    seen: set[tuple[str, str]] = set()
    for (index, review), compound in zip(kept, compounds):
        key = text_key(review.text)
        new = (review.location, key) not in seen and reviews.insert(
            {"location": review.location, "text_key": key, "text": review.text, "compound": compound,
             "received_at": stamp})
        seen.add((review.location, key))
        if new:
            added.setdefault(review.location, []).append(compound)
        result.scored.append(ScoredText(index, review.location, compound, not new))
    for location in sorted({review.location for _, review in kept}):
        scores = added.get(location)
        item = locations.add_reviews(location, len(scores), sum(scores), stamp) if scores else known[location]
        result.locations[location] = aggregates(item, moment)
    result.invalid.sort(key=lambda invalid: invalid.index)
    return result


def ingest_object(reviews: ReviewStore, locations: LocationStore, bucket: Bucket, key: str) -> dict[str, Any]:
    """Ingest one dropped file of reviews, once per ETag (finscore.ingest_files); returns its report,
    with each location's aggregates after the file."""

    def take(records: list[dict[str, Any]], numbers: list[int]) -> tuple[ReviewsResult, dict[str, Any]]:
        result = ingest_reviews(records, reviews, locations, numbers)
        return result, {"locations": result.locations}

    return ingest_file(bucket, key, REVIEWS_QUEUE.s3_prefix, INGEST_REPORTS_PREFIX, take)


@lru_cache(maxsize=1)
def ingest_bucket() -> Bucket:
    return Bucket(load_settings(OpportunityIngestSettings).data_bucket)


def ingest_created(source_bucket: str, key: str) -> dict[str, Any] | None:
    """One created object of an S3 event (finscore.notifications): ingested when it is a file under the
    reviews prefix of the data bucket; returns its report, or None for objects elsewhere."""
    bucket = ingest_bucket()
    if source_bucket != bucket.name or not key.startswith(REVIEWS_QUEUE.s3_prefix) or key.endswith("/"):
        logger.warning("Ignoring an object outside the opportunity reviews prefix",
                       extra={"bucket": source_bucket, "key": key})
        return None
    reviews, locations = review_stores()
    report = ingest_object(reviews, locations, bucket, key)
    logger.info("Reviews file ingested", extra={"key": key, "inserted": report["inserted_count"],
                                                "invalid": len(report["invalid_records"])})
    return report
