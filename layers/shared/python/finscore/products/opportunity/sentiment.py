"""Review texts as sentiment: VADER compound scores and a location's aggregates.

VADER (vaderSentiment) is imported on the first text scored, never at import: its import and lexicon
load (about 25 ms) belong to the paths that take reviews in, not to the cold start of scoring.

A location's aggregates are kept as sums (finscore.products.opportunity.repository) and read as:
- sentiment_score = the mean VADER compound (-1..1) of the location's stored texts; 0.0 (neutral)
  for a location without reviews;
- engagement_score = volume x recency, 0..1: volume = min(1, ln(1 + reviews) / ln(1 + 200)) (200
  reviews or more count as full volume), recency = exp(-days since the latest review / 30).
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from functools import lru_cache
from typing import Any, Mapping, Sequence

FULL_VOLUME_REVIEWS = 200
RECENCY_DAYS = 30.0
ENGAGEMENT_TEXT = (f"min(1, ln(1 + reviews) / ln(1 + {FULL_VOLUME_REVIEWS})) x exp(-days since the latest review / "
                   f"{RECENCY_DAYS:g})")


@lru_cache(maxsize=1)
def analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound_scores(texts: Sequence[str]) -> list[float]:
    """VADER's compound score (-1 most negative .. 1 most positive) of each text, 4 decimals."""
    scorer = analyzer()
    return [round(float(scorer.polarity_scores(text)["compound"]), 4) for text in texts]


def text_key(text: str) -> str:
    """A review's key within its location: the hash of its text with case and spacing normalised, so the
    same text sent twice is stored (and counted) once."""
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:32]


def engagement_score(reviews: int, latest: datetime | None, now: datetime) -> float:
    if reviews <= 0 or latest is None:
        return 0.0
    volume = min(1.0, math.log1p(reviews) / math.log1p(FULL_VOLUME_REVIEWS))
    days = max((now - latest).total_seconds() / 86_400.0, 0.0)
    return round(volume * math.exp(-days / RECENCY_DAYS), 4)


def aggregates(item: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    """sentiment_score, engagement_score, review_count and last_review_at of a location's stored sums."""
    count = int((item or {}).get("review_count") or 0)
    total = float((item or {}).get("compound_sum") or 0.0)
    latest_text = (item or {}).get("last_review_at")
    latest = datetime.fromisoformat(latest_text) if isinstance(latest_text, str) else None
    return {"sentiment_score": round(total / count, 4) if count else 0.0,
            "engagement_score": engagement_score(count, latest, now),
            "review_count": count, "last_review_at": latest_text}
