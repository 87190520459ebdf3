"""The opportunity product: micro-investment opportunities in small businesses, scored 0-100 by
location from the business's own figures, what people write about its neighbourhood (VADER
sentiment) and the economy.

Its declaration: the businesses, locations, reviews and indicators tables it owns, the reviews ingest
prefix, where its feature set, model, routes, trainer and seed live, and its defaults. Nothing outside
this package names it but the registry.
"""

from __future__ import annotations

from finscore.products.spec import PRODUCT_API_FOLDER, ProductSpec
from finscore.resources import (
    DATA_BUCKET,
    MODELS_BUCKET,
    REGISTRY_TABLE,
    FunctionSpec,
    KeyAttribute,
    QueueSpec,
    TableSpec,
)

NAME = "opportunity"

# One item per business; by_location lists a location's businesses in one query.
BUSINESSES_TABLE = TableSpec(
    "OpportunityBusinessesTable",
    "OPPORTUNITY_BUSINESSES_TABLE",
    KeyAttribute("business_id"),
    global_indexes=(("by_location", KeyAttribute("location"), KeyAttribute("business_id")),),
)
# One item per location: its city, business count and sentiment sums (review count, compound sum,
# latest review); by_catalog lists every location in one query.
LOCATIONS_TABLE = TableSpec(
    "OpportunityLocationsTable",
    "OPPORTUNITY_LOCATIONS_TABLE",
    KeyAttribute("location"),
    global_indexes=(("by_catalog", KeyAttribute("catalog"), KeyAttribute("location")),),
)
# Every review text once, by location and the hash of its text: a text sent again lands on its own key.
REVIEWS_TABLE = TableSpec("OpportunityReviewsTable", "OPPORTUNITY_REVIEWS_TABLE", KeyAttribute("location"),
                          KeyAttribute("text_key"))
# Economic indicators by effective date in one series: the latest is one query, the history is kept.
INDICATORS_TABLE = TableSpec("OpportunityIndicatorsTable", "OPPORTUNITY_INDICATORS_TABLE", KeyAttribute("series"),
                             KeyAttribute("effective_date"))

# Review files (CSV, JSON Lines, Parquet, Excel; columns location and text) dropped here are taken in
# like POST /v1/opportunities/reviews; each file's report goes beside the prefix, never under it.
REVIEWS_QUEUE = QueueSpec("OpportunityReviewsQueue", "OPPORTUNITY_REVIEWS_QUEUE_URL", "ingest/opportunity/reviews/",
                          "OpportunityReviewsDeadLetterQueue")
INGEST_REPORTS_PREFIX = "ingest/opportunity/reports/"

OPPORTUNITY_API = FunctionSpec(
    name="opportunity_api",
    logical_id="OpportunityApiFunction",
    description="FinScore micro-investment opportunities: scores by location, comparisons, reviews, indicators",
    code=PRODUCT_API_FOLDER,
    product=NAME,
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE, BUSINESSES_TABLE, LOCATIONS_TABLE, REVIEWS_TABLE, INDICATORS_TABLE),
    writes=(LOCATIONS_TABLE, REVIEWS_TABLE, INDICATORS_TABLE),
    # Comparisons read several locations at once.
    listings=(LOCATIONS_TABLE,),
    timeout_s=29,
    routes=(
        ("POST", "/opportunities/score"),
        ("POST", "/opportunities/score/businesses"),
        ("POST", "/opportunities/compare"),
        ("GET", "/opportunities/locations"),
        ("POST", "/opportunities/reviews"),
        ("POST", "/opportunities/economic-indicators"),
        ("GET", "/opportunities/model"),
        ("GET", "/opportunities/businesses/{business_id}/explanation"),
    ),
)

OPPORTUNITY_INGEST = FunctionSpec(
    name="opportunity_ingest",
    logical_id="OpportunityIngestFunction",
    description="FinScore opportunity review files: score each text with VADER, store it once, update aggregates",
    product=NAME,
    buckets=(DATA_BUCKET,),
    tables=(LOCATIONS_TABLE, REVIEWS_TABLE),
    # A review is a conditional put (stored once); its location's sums an atomic add.
    table_actions=((LOCATIONS_TABLE, ("BatchGetItem", "UpdateItem")), (REVIEWS_TABLE, ("PutItem",))),
    memory_mb=1024,
    timeout_s=300,
    # An image: files are read with the tabular reader (pyarrow, openpyxl), which the zip layers cannot hold.
    package="image",
    dependency_groups=("tabular",),
    queue=REVIEWS_QUEUE,
    output_prefixes=(INGEST_REPORTS_PREFIX,),
)

OPPORTUNITY = ProductSpec(
    name=NAME,
    description="Micro-investment opportunities: small businesses scored 0-100 by location, sentiment and economy",
    features="finscore.products.opportunity.features:FEATURE_SET",
    model="finscore.products.opportunity.model:OpportunityModel",
    record="finscore.products.opportunity.records:OpportunityRecord",
    routes="finscore.products.opportunity.routes:router",
    api=OPPORTUNITY_API,
    trainer="training.opportunity.trainer",
    enrich="finscore.products.opportunity.stores:stored_context",
    enrich_tables=(LOCATIONS_TABLE, INDICATORS_TABLE),
    seed="training.opportunity.seed:seed",
    functions=(OPPORTUNITY_INGEST,),
    tables=(BUSINESSES_TABLE, LOCATIONS_TABLE, REVIEWS_TABLE, INDICATORS_TABLE),
    queues=(REVIEWS_QUEUE,),
    retrain_schedule="cron(0 4 1 * ? *)",
    # What moves with the neighbourhoods and the economy; a business's type is not drift.
    drift_features=("sentiment_score", "revenue", "age", "rating", "inflation_rate", "interest_rate"),
    # Every field given: the model path alone (score.json ranks a stored location's businesses).
    example_event="opportunity_api/score-businesses.json",
    stored_event="opportunity_api/score.json",
    quick_training={"rows": 1500, "seed": 11, "config": {"n_estimators": 20, "max_depth": 7}},
)
