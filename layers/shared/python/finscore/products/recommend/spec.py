"""The recommend product: banking product recommendations by customer segment.

Its declaration: where its feature set, model, routes and trainer live, and its defaults. It owns
no tables: a recommendation is a pure function of the profile in the request.
"""

from __future__ import annotations

from finscore.products.spec import PRODUCT_API_FOLDER, ProductSpec
from finscore.resources import DATA_BUCKET, MODELS_BUCKET, REGISTRY_TABLE, FunctionSpec

NAME = "recommend"

RECOMMEND_API = FunctionSpec(
    name="recommend_api",
    logical_id="RecommendApiFunction",
    description="FinScore banking product recommendations",
    code=PRODUCT_API_FOLDER,
    product=NAME,
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE,),
    routes=(
        ("POST", "/recommendations"),
        ("GET", "/recommendations/segments"),
    ),
)

RECOMMEND = ProductSpec(
    name=NAME,
    description="Banking product recommendations: a customer segment and one product per category",
    features="finscore.products.recommend.features:FEATURE_SET",
    model="finscore.products.recommend.model:Recommender",
    record="finscore.products.recommend.api_models:CustomerProfile",
    routes="finscore.products.recommend.routes:router",
    api=RECOMMEND_API,
    trainer="training.recommend.trainer",
    retrain_schedule="cron(0 4 ? * SUN *)",
    example_event="recommend_api/recommend.json",
    quick_training={"rows": 2_000, "seed": 11},
)
