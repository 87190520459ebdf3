"""Names of every AWS resource, shared by the CDK app and the local runtime.

The CDK app creates these resources under their logical ids and hands the physical names to each
function through the environment variables named here; the local run creates the same resources
under `local_name(...)`. Nothing else in the code base spells a bucket, table or variable name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRODUCTS = ("risk", "propensity", "recommend", "demand", "opportunity")
LOCAL_PREFIX = "finscore-local"


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    env_var: str
    versioned: bool = False


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str = "S"  # DynamoDB scalar type: S | N | B


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    env_var: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    global_indexes: tuple[tuple[str, KeyAttribute, KeyAttribute | None], ...] = field(default=())
    # DynamoDB Streams view type when the table feeds a function (NEW_AND_OLD_IMAGES), else None.
    stream: str | None = None
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class TopicSpec:
    logical_id: str
    env_var: str


@dataclass(frozen=True)
class QueueSpec:
    """A queue fed by S3 ObjectCreated notifications for keys under `s3_prefix` of the data bucket."""

    logical_id: str
    env_var: str
    s3_prefix: str
    dead_letter_logical_id: str


MODELS_BUCKET = BucketSpec("ModelsBucket", "MODELS_BUCKET", versioned=True)
DATA_BUCKET = BucketSpec("DataBucket", "DATA_BUCKET")
BUCKETS = (MODELS_BUCKET, DATA_BUCKET)

# One item per (product, version); the champion pointer of a product lives under CHAMPION_KEY.
REGISTRY_TABLE = TableSpec("ModelRegistryTable", "REGISTRY_TABLE", KeyAttribute("product"), KeyAttribute("version"))
# Risk feature store: one item per customer (profile, behavioural features, latest score). The
# by_score index holds every scored customer under one partition so that the high-risk listing is a
# single descending range query on risk_score.
RISK_CUSTOMERS_TABLE = TableSpec(
    "RiskCustomersTable",
    "RISK_CUSTOMERS_TABLE",
    KeyAttribute("customer_id"),
    global_indexes=(("by_score", KeyAttribute("score_partition"), KeyAttribute("risk_score", "N")),),
    stream="NEW_AND_OLD_IMAGES",
)
# Transactions per customer, sorted by "<ISO date>#<transaction id>".
RISK_TRANSACTIONS_TABLE = TableSpec(
    "RiskTransactionsTable", "RISK_TRANSACTIONS_TABLE", KeyAttribute("customer_id"), KeyAttribute("txn_key")
)
INTERVENTIONS_TABLE = TableSpec(
    "InterventionsTable",
    "INTERVENTIONS_TABLE",
    KeyAttribute("intervention_id"),
    global_indexes=(("by_customer", KeyAttribute("customer_id"), KeyAttribute("created_at")),),
    stream="NEW_AND_OLD_IMAGES",
)
# Powertools idempotency records (Idempotency-Key of POST /v1/risk/interventions), expiring by TTL.
IDEMPOTENCY_TABLE = TableSpec("IdempotencyTable", "IDEMPOTENCY_TABLE", KeyAttribute("id"), ttl_attribute="expiration")
LIVE_CONNECTIONS_TABLE = TableSpec(
    "LiveConnectionsTable", "LIVE_CONNECTIONS_TABLE", KeyAttribute("connection_id"), ttl_attribute="expires_at"
)
TABLES = (
    REGISTRY_TABLE,
    RISK_CUSTOMERS_TABLE,
    RISK_TRANSACTIONS_TABLE,
    INTERVENTIONS_TABLE,
    IDEMPOTENCY_TABLE,
    LIVE_CONNECTIONS_TABLE,
)

APP_PUSH_TOPIC = TopicSpec("AppPushTopic", "APP_PUSH_TOPIC_ARN")
TOPICS = (APP_PUSH_TOPIC,)

RISK_TRANSACTIONS_QUEUE = QueueSpec(
    "RiskTransactionsQueue", "RISK_TRANSACTIONS_QUEUE_URL", "ingest/risk/transactions/", "RiskTransactionsDeadLetterQueue"
)
# Batch scoring: a file put under incoming/<product>/ of the data bucket.
BATCH_INCOMING_QUEUE = QueueSpec(
    "BatchIncomingQueue", "BATCH_INCOMING_QUEUE_URL", "incoming/", "BatchIncomingDeadLetterQueue"
)
QUEUES = (RISK_TRANSACTIONS_QUEUE, BATCH_INCOMING_QUEUE)


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    env_var: str


# Files beyond one function's reach fan out over chunks through a Distributed Map and are joined back.
BATCH_STATE_MACHINE = StateMachineSpec("BatchScoreStateMachine", "BATCH_STATE_MACHINE_ARN")
# Model lifecycle events (ModelRegistered, ModelPromoted, ModelRejected, DriftDetected) go to this bus.
EVENT_BUS_ENV = "EVENT_BUS_NAME"
EVENT_SOURCE = "finscore.models"
# Scoring functions write a sample of their inputs and outputs here for the drift monitor.
CAPTURE_PREFIX = "capture/"


@dataclass(frozen=True)
class FunctionSpec:
    """A zip function: its folder under functions/, the resources it reads and what it serves."""

    name: str
    logical_id: str
    description: str
    buckets: tuple[BucketSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    memory_mb: int = 512
    timeout_s: int = 15
    # API Gateway routes as (method, path under /v1); "{proxy+}" style paths are not used so that
    # every route is visible in the template and the OpenAPI document.
    routes: tuple[tuple[str, str], ...] = ()
    public_routes: tuple[tuple[str, str], ...] = ()
    admin_routes: tuple[tuple[str, str], ...] = ()
    # "zip" functions use the shared and serving layers; "image" functions build functions/<name>/Dockerfile.
    package: str = "zip"
    # Event sources other than the REST API.
    streams: tuple[TableSpec, ...] = ()
    queue: QueueSpec | None = None
    websocket_routes: tuple[str, ...] = ()
    # What it sends: SNS topics it publishes to, SMS through SNS, email through SES, WebSocket posts.
    topics: tuple[TopicSpec, ...] = ()
    sends_sms: bool = False
    sends_email: bool = False
    posts_to_connections: bool = False


PLATFORM_API = FunctionSpec(
    name="platform_api",
    logical_id="PlatformApiFunction",
    description="FinScore platform routes: health, version, models, admin promote/rollback, OpenAPI",
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE,),
    routes=(
        ("GET", "/version"),
        ("GET", "/models"),
        ("GET", "/models/{product}"),
        ("GET", "/models/{product}/drift"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
    ),
    public_routes=(("GET", "/health"),),
    admin_routes=(
        ("POST", "/models/{product}/promote"),
        ("POST", "/models/{product}/rollback"),
        ("POST", "/models/{product}/retrain"),
    ),
)

RECOMMEND_API = FunctionSpec(
    name="recommend_api",
    logical_id="RecommendApiFunction",
    description="FinScore banking product recommendations",
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE,),
    routes=(
        ("POST", "/recommendations"),
        ("GET", "/recommendations/segments"),
    ),
)

RISK_API = FunctionSpec(
    name="risk_api",
    logical_id="RiskApiFunction",
    description="FinScore pre-delinquency risk: scores, customers, high-risk listing, interventions, messages",
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE, RISK_CUSTOMERS_TABLE, RISK_TRANSACTIONS_TABLE, INTERVENTIONS_TABLE, IDEMPOTENCY_TABLE),
    timeout_s=29,
    routes=(
        ("POST", "/risk/score"),
        ("POST", "/risk/score/batch"),
        ("GET", "/risk/customers"),
        ("GET", "/risk/customers/{customer_id}"),
        ("GET", "/risk/customers/{customer_id}/transactions"),
        ("POST", "/risk/transactions"),
        ("GET", "/risk/high-risk"),
        ("POST", "/risk/interventions"),
        ("GET", "/risk/interventions"),
        ("PATCH", "/risk/interventions/{intervention_id}"),
        ("POST", "/risk/messages"),
        ("GET", "/risk/metrics"),
    ),
)

RISK_EXPLAIN = FunctionSpec(
    name="risk_explain",
    logical_id="RiskExplainFunction",
    description="FinScore risk explanations: SHAP contributions of the native model and reason codes",
    buckets=(MODELS_BUCKET,),
    tables=(REGISTRY_TABLE, RISK_CUSTOMERS_TABLE),
    memory_mb=1024,
    timeout_s=29,
    package="image",
    routes=(("GET", "/risk/customers/{customer_id}/explanation"),),
)

RISK_INGEST = FunctionSpec(
    name="risk_ingest",
    logical_id="RiskIngestFunction",
    description="FinScore risk transaction files: validate row by row, update features, rescore",
    buckets=(DATA_BUCKET, MODELS_BUCKET),
    tables=(REGISTRY_TABLE, RISK_CUSTOMERS_TABLE, RISK_TRANSACTIONS_TABLE, INTERVENTIONS_TABLE),
    memory_mb=1024,
    timeout_s=300,
    queue=RISK_TRANSACTIONS_QUEUE,
)

INTERVENTION_DELIVERY = FunctionSpec(
    name="intervention_delivery",
    logical_id="InterventionDeliveryFunction",
    description="FinScore intervention delivery: SMS and app push through SNS, email through SES, once",
    tables=(INTERVENTIONS_TABLE,),
    timeout_s=60,
    streams=(INTERVENTIONS_TABLE,),
    topics=(APP_PUSH_TOPIC,),
    sends_sms=True,
    sends_email=True,
)

LIVE_CONNECTIONS = FunctionSpec(
    name="live_connections",
    logical_id="LiveConnectionsFunction",
    description="FinScore live updates: WebSocket connect and disconnect",
    tables=(LIVE_CONNECTIONS_TABLE,),
    websocket_routes=("$connect", "$disconnect"),
)

LIVE_BROADCAST = FunctionSpec(
    name="live_broadcast",
    logical_id="LiveBroadcastFunction",
    description="FinScore live updates: new high/critical scores and intervention status changes to dashboards",
    tables=(LIVE_CONNECTIONS_TABLE,),
    timeout_s=60,
    streams=(RISK_CUSTOMERS_TABLE, INTERVENTIONS_TABLE),
    posts_to_connections=True,
)

BATCH_SCORE = FunctionSpec(
    name="batch_score",
    logical_id="BatchScoreFunction",
    description="FinScore batch scoring: files under incoming/<product>/ scored into scored/<product>/<file>/",
    buckets=(DATA_BUCKET, MODELS_BUCKET),
    tables=(REGISTRY_TABLE,),
    memory_mb=3008,
    timeout_s=900,
    package="image",
    queue=BATCH_INCOMING_QUEUE,
)

MODEL_RETRAIN = FunctionSpec(
    name="model_retrain",
    logical_id="ModelRetrainFunction",
    description="FinScore retraining: data from training/<product>/, the promotion gate, lifecycle events",
    buckets=(DATA_BUCKET, MODELS_BUCKET),
    tables=(REGISTRY_TABLE,),
    memory_mb=3008,
    timeout_s=900,
    package="image",
)

DRIFT_MONITOR = FunctionSpec(
    name="drift_monitor",
    logical_id="DriftMonitorFunction",
    description="FinScore drift: captured scoring inputs against the champion's training baseline",
    buckets=(DATA_BUCKET, MODELS_BUCKET),
    tables=(REGISTRY_TABLE,),
    memory_mb=1024,
    timeout_s=900,
    package="image",
)

FUNCTIONS = (
    PLATFORM_API,
    RECOMMEND_API,
    RISK_API,
    RISK_EXPLAIN,
    RISK_INGEST,
    INTERVENTION_DELIVERY,
    LIVE_CONNECTIONS,
    LIVE_BROADCAST,
    BATCH_SCORE,
    MODEL_RETRAIN,
    DRIFT_MONITOR,
)
API_BASE_PATH = "/v1"


def local_name(logical_id: str) -> str:
    """The physical name a resource gets in the local run: finscore-local-<kebab logical id>."""
    kebab = "".join(f"-{c.lower()}" if c.isupper() else c for c in logical_id).lstrip("-")
    return f"{LOCAL_PREFIX}-{kebab}"
