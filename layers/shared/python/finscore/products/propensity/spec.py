"""The propensity product: the probability that a retail investor buys a stock on the next trading day.

Its declaration: the stock, bar and investor tables it owns, where its feature set, model, routes,
trainer and seed live, and its defaults. Nothing outside this package names it but the registry.
"""

from __future__ import annotations

from finscore.products.spec import PRODUCT_API_FOLDER, ProductSpec
from finscore.resources import DATA_BUCKET, MODELS_BUCKET, REGISTRY_TABLE, FunctionSpec, KeyAttribute, TableSpec

NAME = "propensity"

# One item per stock with its market fields as of its latest bar; by_universe lists them all in one
# query (the ranking of top-stocks runs over the whole universe).
STOCKS_TABLE = TableSpec(
    "PropensityStocksTable",
    "PROPENSITY_STOCKS_TABLE",
    KeyAttribute("stock_id"),
    global_indexes=(("by_universe", KeyAttribute("universe"), KeyAttribute("stock_id")),),
)
# Daily bars per stock, sorted by ISO date: the history features are recomputed from.
BARS_TABLE = TableSpec("PropensityBarsTable", "PROPENSITY_BARS_TABLE", KeyAttribute("stock_id"), KeyAttribute("date"))
# One item per investor: risk tolerance and purchase history summarised as of a day.
INVESTORS_TABLE = TableSpec("PropensityInvestorsTable", "PROPENSITY_INVESTORS_TABLE", KeyAttribute("user_id"))

PROPENSITY_API = FunctionSpec(
    name="propensity_api",
    logical_id="PropensityApiFunction",
    description="FinScore stock purchase propensity: scores, top stocks per investor, market data",
    code=PRODUCT_API_FOLDER,
    product=NAME,
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE, STOCKS_TABLE, BARS_TABLE, INVESTORS_TABLE),
    writes=(STOCKS_TABLE, BARS_TABLE),
    # Records of many stocks and investors are completed with batched reads.
    listings=(STOCKS_TABLE, INVESTORS_TABLE),
    timeout_s=29,
    routes=(
        ("POST", "/propensity/score"),
        ("POST", "/propensity/score/batch"),
        ("GET", "/propensity/users/{user_id}/top-stocks"),
        ("GET", "/propensity/stocks/{stock_id}/bars"),
        ("POST", "/propensity/market-data"),
        ("GET", "/propensity/drift"),
    ),
)

PROPENSITY = ProductSpec(
    name=NAME,
    description="Stock purchase propensity: the probability an investor buys a stock on the next trading day",
    features="finscore.products.propensity.features:FEATURE_SET",
    model="finscore.products.propensity.model:PropensityModel",
    record="finscore.products.propensity.records:ScoreRecord",
    routes="finscore.products.propensity.routes:router",
    api=PROPENSITY_API,
    trainer="training.propensity.trainer",
    enrich="finscore.products.propensity.stores:stored_fields",
    enrich_tables=(STOCKS_TABLE, INVESTORS_TABLE),
    seed="training.propensity.seed:seed",
    tables=(STOCKS_TABLE, BARS_TABLE, INVESTORS_TABLE),
    retrain_schedule="cron(0 5 ? * SUN *)",
    # Every field given: the model path alone (the seed's body, score.json, adds two store reads).
    example_event="propensity_api/score-complete.json",
    quick_training={"rows": 150, "seed": 11, "config": {"search_budget": 2, "max_rounds": 120}},
)
