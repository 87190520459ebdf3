"""The risk product: pre-delinquency scores, customers and their transactions, interventions and live updates.

Its declaration: the tables, queue, topic and functions it owns, where its feature set, model,
routes, trainer and seed live, and its defaults. Nothing outside this package names it but the
registry.
"""

from __future__ import annotations

from finscore.products.spec import PRODUCT_API_FOLDER, ProductSpec
from finscore.resources import (
    CUSTOMER_DATA_SCOPE,
    DATA_BUCKET,
    INTERVENTIONS_SCOPE,
    MODELS_BUCKET,
    REGISTRY_TABLE,
    FunctionSpec,
    KeyAttribute,
    QueueSpec,
    Route,
    TableSpec,
    TopicSpec,
)

NAME = "risk"

# The feature store: one item per customer (profile, behavioural features, latest score). The
# by_score index spreads scored customers over a few shards (score_shard, repository.SHARDS)
# by risk_score: the high-risk listing merges the shards' descending range queries, and no single
# partition takes every score write.
CUSTOMERS_TABLE = TableSpec(
    "RiskCustomersTable",
    "RISK_CUSTOMERS_TABLE",
    KeyAttribute("customer_id"),
    global_indexes=(("by_score", KeyAttribute("score_shard"), KeyAttribute("risk_score", "N")),),
    stream="NEW_AND_OLD_IMAGES",
)
# Customer search: one item per term a search may begin with (the id, the name from each word on),
# partitioned by the term's first character and sorted by "<term>#<customer_id>".
CUSTOMER_SEARCH_TABLE = TableSpec(
    "RiskCustomerSearchTable", "RISK_CUSTOMER_SEARCH_TABLE", KeyAttribute("term_initial"), KeyAttribute("term_key")
)
# What GET /v1/risk/metrics reads: counters per shard, moved in the same transactions as the scores
# and interventions they count (repository.CounterStore).
COUNTERS_TABLE = TableSpec("RiskCountersTable", "RISK_COUNTERS_TABLE", KeyAttribute("counter"))
# Transactions per customer, sorted by "<ISO date>#<transaction id>".
TRANSACTIONS_TABLE = TableSpec(
    "RiskTransactionsTable", "RISK_TRANSACTIONS_TABLE", KeyAttribute("customer_id"), KeyAttribute("txn_key")
)
INTERVENTIONS_TABLE = TableSpec(
    "InterventionsTable",
    "INTERVENTIONS_TABLE",
    KeyAttribute("intervention_id"),
    # A customer's, one status's, and all of them (spread over created_shard), each newest first.
    global_indexes=(
        ("by_customer", KeyAttribute("customer_id"), KeyAttribute("created_at")),
        ("by_status", KeyAttribute("status"), KeyAttribute("created_at")),
        ("by_created", KeyAttribute("created_shard"), KeyAttribute("created_at")),
    ),
    stream="NEW_AND_OLD_IMAGES",
)
# Powertools idempotency records (Idempotency-Key of POST /v1/risk/interventions), expiring by TTL.
IDEMPOTENCY_TABLE = TableSpec("IdempotencyTable", "IDEMPOTENCY_TABLE", KeyAttribute("id"), ttl_attribute="expiration")
LIVE_CONNECTIONS_TABLE = TableSpec(
    "LiveConnectionsTable", "LIVE_CONNECTIONS_TABLE", KeyAttribute("connection_id"), ttl_attribute="expires_at"
)
APP_PUSH_TOPIC = TopicSpec("AppPushTopic", "APP_PUSH_TOPIC_ARN")
TRANSACTIONS_QUEUE = QueueSpec(
    "RiskTransactionsQueue", "RISK_TRANSACTIONS_QUEUE_URL", "ingest/risk/transactions/", "RiskTransactionsDeadLetterQueue"
)
# Where file ingest writes its per-file reports: beside the queue's prefix, never under it.
INGEST_REJECTS_PREFIX = "ingest/risk/rejects/"
INGEST_SUMMARIES_PREFIX = "ingest/risk/summaries/"

# The scoring policy (cdk.json context) every function that scores follows: how old stored features
# may be, and the intervention policy, since scoring may auto-trigger an intervention; delivery
# needs the email sender and the DLT ids of SMS to India.
POLICY_CONTEXT = (
    ("FEATURES_MAX_AGE_HOURS", "featuresMaxAgeHours"),
    ("ENABLE_INTERVENTIONS", "enableInterventions"),
    ("AUTO_TRIGGER_THRESHOLD", "autoTriggerThreshold"),
    ("AUTO_TRIGGER_COOLDOWN_HOURS", "autoTriggerCooldownHours"),
    ("RISK_LEVEL_CUTOFFS", "riskLevelCutoffs"),
)
SENDER_CONTEXT = (
    ("SENDER_EMAIL", "senderEmail"),
    ("SMS_ENTITY_ID", "smsEntityId"),
    ("SMS_TEMPLATE_ID", "smsTemplateId"),
)

RISK_API = FunctionSpec(
    name="risk_api",
    logical_id="RiskApiFunction",
    description="FinScore pre-delinquency risk: scores, customers, high-risk listing, interventions, messages",
    code=PRODUCT_API_FOLDER,
    product=NAME,
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE, CUSTOMERS_TABLE, TRANSACTIONS_TABLE, INTERVENTIONS_TABLE, IDEMPOTENCY_TABLE,
            CUSTOMER_SEARCH_TABLE, COUNTERS_TABLE),
    writes=(CUSTOMERS_TABLE, TRANSACTIONS_TABLE, INTERVENTIONS_TABLE, IDEMPOTENCY_TABLE),
    # Transactions arrive for many customers at once, and a search page's customers are read
    # together; nothing on a request path scans.
    listings=(CUSTOMERS_TABLE,),
    # Search is a prefix query on the terms; the metrics read the counters in one batch, and score
    # and intervention writes move them (in their transactions).
    table_actions=((CUSTOMER_SEARCH_TABLE, ("Query",)), (COUNTERS_TABLE, ("BatchGetItem", "UpdateItem"))),
    timeout_s=29,
    # The score scope unless named: scoring, the transactions a scoring system feeds in, and the
    # portfolio's aggregate metrics. Whatever shows a customer needs the customer-data scope; whatever
    # reaches out to a customer, the interventions scope.
    routes=(
        ("POST", "/risk/score"),
        ("POST", "/risk/score/batch"),
        Route("GET", "/risk/customers", CUSTOMER_DATA_SCOPE),
        Route("GET", "/risk/customers/{customer_id}", CUSTOMER_DATA_SCOPE),
        Route("GET", "/risk/customers/{customer_id}/transactions", CUSTOMER_DATA_SCOPE),
        ("POST", "/risk/transactions"),
        Route("GET", "/risk/high-risk", CUSTOMER_DATA_SCOPE),
        Route("POST", "/risk/interventions", INTERVENTIONS_SCOPE),
        Route("GET", "/risk/interventions", CUSTOMER_DATA_SCOPE),
        Route("PATCH", "/risk/interventions/{intervention_id}", INTERVENTIONS_SCOPE),
        Route("POST", "/risk/messages", INTERVENTIONS_SCOPE),
        ("GET", "/risk/metrics"),
    ),
    context=POLICY_CONTEXT,
)

RISK_EXPLAIN = FunctionSpec(
    name="risk_explain",
    logical_id="RiskExplainFunction",
    description="FinScore risk explanations: SHAP contributions of the native model and reason codes",
    product=NAME,
    buckets=(MODELS_BUCKET,),
    tables=(REGISTRY_TABLE, CUSTOMERS_TABLE),
    # The customer's stored features, by key.
    table_actions=((CUSTOMERS_TABLE, ("GetItem",)),),
    memory_mb=1024,
    timeout_s=29,
    package="image",
    dependency_groups=("boosters",),
    # A customer's features and the reasons behind the score: customer data.
    routes=(("GET", "/risk/customers/{customer_id}/explanation"),),
    scope=CUSTOMER_DATA_SCOPE,
)

RISK_INGEST = FunctionSpec(
    name="risk_ingest",
    logical_id="RiskIngestFunction",
    description="FinScore risk transaction files: validate row by row, update features, rescore",
    product=NAME,
    counts_activity=True,
    buckets=(DATA_BUCKET, MODELS_BUCKET),
    tables=(REGISTRY_TABLE, CUSTOMERS_TABLE, TRANSACTIONS_TABLE, INTERVENTIONS_TABLE, COUNTERS_TABLE),
    writes=(CUSTOMERS_TABLE, TRANSACTIONS_TABLE, INTERVENTIONS_TABLE),
    # The customers of a file's transactions are read together.
    listings=(CUSTOMERS_TABLE,),
    # Its rescores and auto-triggered interventions move the counters, in their transactions.
    table_actions=((COUNTERS_TABLE, ("UpdateItem",)),),
    memory_mb=1024,
    timeout_s=300,
    # An image: files are read with the tabular reader (pyarrow), which the zip layers cannot hold.
    package="image",
    dependency_groups=("tabular",),
    queue=TRANSACTIONS_QUEUE,
    output_prefixes=(INGEST_REJECTS_PREFIX, INGEST_SUMMARIES_PREFIX),
    context=POLICY_CONTEXT,
)

INTERVENTION_DELIVERY = FunctionSpec(
    name="intervention_delivery",
    logical_id="InterventionDeliveryFunction",
    description="FinScore intervention delivery: SMS and app push through SNS, email through SES, once",
    product=NAME,
    tables=(INTERVENTIONS_TABLE,),
    # The intervention comes in the stream record; delivery only moves its status, conditionally.
    table_actions=((INTERVENTIONS_TABLE, ("UpdateItem",)),),
    timeout_s=60,
    streams=(INTERVENTIONS_TABLE,),
    # A new intervention is a delivery; its status changes (which delivery itself writes) are not.
    stream_events=("INSERT",),
    topics=(APP_PUSH_TOPIC,),
    sends_sms=True,
    sends_email=True,
    context=SENDER_CONTEXT,
)

LIVE_CONNECTIONS = FunctionSpec(
    name="live_connections",
    logical_id="LiveConnectionsFunction",
    description="FinScore live updates: WebSocket connect and disconnect",
    product=NAME,
    tables=(LIVE_CONNECTIONS_TABLE,),
    table_actions=((LIVE_CONNECTIONS_TABLE, ("PutItem", "DeleteItem")),),
    websocket_routes=("$connect", "$disconnect"),
)

LIVE_BROADCAST = FunctionSpec(
    name="live_broadcast",
    logical_id="LiveBroadcastFunction",
    description="FinScore live updates: new high/critical scores and intervention status changes to dashboards",
    product=NAME,
    tables=(LIVE_CONNECTIONS_TABLE,),
    # It lists the open connections; those found gone (410) it deletes.
    table_actions=((LIVE_CONNECTIONS_TABLE, ("Scan", "DeleteItem")),),
    timeout_s=60,
    streams=(CUSTOMERS_TABLE, INTERVENTIONS_TABLE),
    posts_to_connections=True,
)

RISK = ProductSpec(
    name=NAME,
    description="Pre-delinquency risk: calibrated 0-100 scores and levels from behavioural features, "
    "reasons, interventions",
    features="finscore.products.risk.features:FEATURE_SET",
    model="finscore.products.risk.model:RiskModel",
    record="finscore.products.risk.records:FeatureRow",
    routes="finscore.products.risk.routes:router",
    api=RISK_API,
    trainer="training.risk.trainer",
    enrich="finscore.products.risk.scoring:stored_features",
    enrich_tables=(CUSTOMERS_TABLE, TRANSACTIONS_TABLE),
    seed="training.risk.seed:seed",
    functions=(RISK_EXPLAIN, RISK_INGEST, INTERVENTION_DELIVERY, LIVE_CONNECTIONS, LIVE_BROADCAST),
    tables=(CUSTOMERS_TABLE, TRANSACTIONS_TABLE, INTERVENTIONS_TABLE, IDEMPOTENCY_TABLE, LIVE_CONNECTIONS_TABLE,
            CUSTOMER_SEARCH_TABLE, COUNTERS_TABLE),
    queues=(TRANSACTIONS_QUEUE,),
    topics=(APP_PUSH_TOPIC,),
    retrain_schedule="cron(0 3 ? * SUN *)",
    example_event="risk_api/score-features.json",
    stored_event="risk_api/score-by-id.json",
    quick_training={"rows": 1_500, "seed": 11, "config": {"rounds": 60}},
)
