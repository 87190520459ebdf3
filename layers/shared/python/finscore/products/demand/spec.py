"""The demand product: next-week demand for loans, credit cards and insurance per pincode, product and
channel, whether it rises, which product leads, and the regions pincodes cluster into.

Its declaration: the sales and weekly-series tables it owns, where its feature set, model, routes,
trainer and seed live, and its defaults. Nothing outside this package names it but the registry.
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

NAME = "demand"

# Every sale, by pincode and "<ISO date>#<record id>": a pincode's sales of a period are one range query,
# and a sale sent again lands on its own key.
SALES_TABLE = TableSpec("DemandSalesTable", "DEMAND_SALES_TABLE", KeyAttribute("pincode"), KeyAttribute("sale_key"))
# Weekly sales per pincode (one item per pincode and week, counts of every product and channel and the
# customers' age and income sums), by ISO date of the week's Monday: the features of a pincode are one
# query of its latest weeks.
SERIES_TABLE = TableSpec("DemandSeriesTable", "DEMAND_SERIES_TABLE", KeyAttribute("pincode"), KeyAttribute("week"))

# Sales files (CSV, JSON Lines, Parquet, Excel) dropped here are ingested like POST /v1/demand/sales; each
# file's report goes beside the prefix, never under it.
SALES_QUEUE = QueueSpec("DemandSalesQueue", "DEMAND_SALES_QUEUE_URL", "ingest/demand/sales/", "DemandSalesDeadLetterQueue")
INGEST_REPORTS_PREFIX = "ingest/demand/reports/"

DEMAND_API = FunctionSpec(
    name="demand_api",
    logical_id="DemandApiFunction",
    description="FinScore regional demand: next-week demand, rises, top products, regions, sales in",
    code=PRODUCT_API_FOLDER,
    product=NAME,
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE, SALES_TABLE, SERIES_TABLE),
    writes=(SALES_TABLE, SERIES_TABLE),
    timeout_s=29,
    routes=(
        ("POST", "/demand/predict"),
        ("POST", "/demand/rise"),
        ("POST", "/demand/top-product"),
        ("POST", "/demand/sales"),
        ("POST", "/demand/sample-data"),
        ("GET", "/demand/regions"),
        ("GET", "/demand/regions/{region_id}"),
    ),
)

DEMAND_INGEST = FunctionSpec(
    name="demand_ingest",
    logical_id="DemandIngestFunction",
    description="FinScore demand sales files: validate row by row, store new sales, update weekly series",
    product=NAME,
    buckets=(DATA_BUCKET,),
    tables=(SALES_TABLE, SERIES_TABLE),
    # A sale is a conditional put (stored once); its week an atomic add.
    table_actions=((SALES_TABLE, ("PutItem",)), (SERIES_TABLE, ("UpdateItem",))),
    memory_mb=1024,
    timeout_s=300,
    # An image: files are read with the tabular reader (pyarrow, openpyxl), which the zip layers cannot hold.
    package="image",
    dependency_groups=("tabular",),
    queue=SALES_QUEUE,
    output_prefixes=(INGEST_REPORTS_PREFIX,),
)

DEMAND = ProductSpec(
    name=NAME,
    description="Regional demand: next-week sales of loans, cards and insurance per pincode and channel, "
    "rises, top products and regions",
    features="finscore.products.demand.features:FEATURE_SET",
    model="finscore.products.demand.model:DemandModel",
    record="finscore.products.demand.records:DemandQuery",
    routes="finscore.products.demand.routes:router",
    api=DEMAND_API,
    trainer="training.demand.trainer",
    enrich="finscore.products.demand.stores:stored_history",
    enrich_tables=(SERIES_TABLE,),
    seed="training.demand.seed:seed",
    functions=(DEMAND_INGEST,),
    tables=(SALES_TABLE, SERIES_TABLE),
    queues=(SALES_QUEUE,),
    retrain_schedule="cron(0 6 ? * MON *)",
    # What moves between weeks; the category indexes and the calendar are not drift.
    drift_features=("lag_1", "mean_4", "mean_13", "trend", "pincode_mean_13", "share_loan", "share_credit_card",
                    "share_insurance", "online_share", "growth", "mean_age", "mean_income"),
    example_event="demand_api/predict.json",
    quick_training={"rows": 60, "seed": 11, "config": {"max_rounds": 80}},
)
