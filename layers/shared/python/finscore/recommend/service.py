"""What the recommend API does: answer a profile or list the segments with the cached champion.

The champion cache is created on first use from the function's settings, never at import, so that
tests and the local runtime can set the environment first.
"""

from __future__ import annotations

from functools import lru_cache

from finscore.drift.capture import capture_buffer
from finscore.models.champion import ChampionCache, serving_champion
from finscore.recommend import PRODUCT
from finscore.recommend.catalog import PRODUCTS_BY_ID
from finscore.recommend.features import FEATURE_NAMES, profile_features
from finscore.recommend.model import Recommender, load_recommender, predict
from finscore.recommend.schemas import CustomerProfile, RecommendationResponse, SegmentProfile, SegmentsResponse
from finscore.settings import ModelServingSettings, load_settings


@lru_cache(maxsize=1)
def champion() -> ChampionCache[Recommender]:
    """The execution environment's champion cache for recommend."""
    return serving_champion(PRODUCT, load_recommender, load_settings(ModelServingSettings))


def reset_champion() -> None:
    """Forget the cached champion (tests that start from a fresh model store call this)."""
    champion.cache_clear()


def recommend(profile: CustomerProfile) -> RecommendationResponse:
    loaded = champion().get()
    request = profile.model_dump()
    recommendation = predict(loaded.model, request)
    capture = capture_buffer()
    if capture.sampled():
        # Features are recomputed only for the sampled few, keeping predict's path untouched.
        row = profile_features(request).row[0]
        capture.add(PRODUCT, loaded.version, dict(zip(FEATURE_NAMES, map(float, row))),
                    {"cluster": recommendation.cluster, "products": recommendation.products})
    return RecommendationResponse(
        cluster=recommendation.cluster,
        segment=recommendation.segment,
        financial_health_score=round(recommendation.financial_health_score, 1),
        income_tier=recommendation.income_tier,
        recommendations={
            category: PRODUCTS_BY_ID[product].name if product else None
            for category, product in recommendation.products.items()
        },
        products=recommendation.products,
        confidence_scores={
            category: round(score, 4) if score is not None else None
            for category, score in recommendation.confidence_scores.items()
        },
        model_version=loaded.version,
    )


def segments() -> SegmentsResponse:
    loaded = champion().get()
    return SegmentsResponse(
        model_version=loaded.version,
        segments=[SegmentProfile.model_validate(segment) for segment in loaded.model.segments],
    )
