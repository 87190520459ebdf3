"""Names of every AWS resource of the platform, and the shapes products declare theirs with.

The CDK app creates these resources under their logical ids and hands the physical names to each
function through the environment variables named here; the local run creates the same resources
under `local_name(...)`. A product's own tables, queues, topics and functions are declared in its
spec (finscore.products); `finscore.products.all_functions()` and its siblings list both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

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
# One item per (product, UTC hour): requests, records scored and a summary of the scores
# (finscore.activity), added to by every function that scores and read by the dashboard's figures.
ACTIVITY_TABLE = TableSpec("ActivityTable", "ACTIVITY_TABLE", KeyAttribute("product"), KeyAttribute("hour"),
                           ttl_attribute="expires_at")
# What counting needs of the activity table: an atomic add to an hour's item.
ACTIVITY_ACTIONS = (ACTIVITY_TABLE, ("UpdateItem",))
# One item per custom model (a user's own table, finscore.products.custom): its definition, its
# training status with the reasons of its last run, and the summary of its champion; by_catalog lists them.
CUSTOM_MODELS_TABLE = TableSpec("CustomModelsTable", "CUSTOM_MODELS_TABLE", KeyAttribute("name"),
                                global_indexes=(("by_catalog", KeyAttribute("catalog"), KeyAttribute("name")),))
TABLES = (REGISTRY_TABLE, ACTIVITY_TABLE, CUSTOM_MODELS_TABLE)
# Where a custom model's training files live in the data bucket (training/custom/<name>/ by default):
# the custom API checks and uploads them there, and the retrain function reads every file under training/.
CUSTOM_TRAINING_PREFIX = "training/custom/"
# A custom model's name in the model store, the registry, drift capture and activity: custom-<name>.
CUSTOM_MODEL_KEY_PREFIX = "custom-"

# Batch scoring: a file put under incoming/<product>/ of the data bucket.
BATCH_INCOMING_QUEUE = QueueSpec(
    "BatchIncomingQueue", "BATCH_INCOMING_QUEUE_URL", "incoming/", "BatchIncomingDeadLetterQueue"
)
QUEUES = (BATCH_INCOMING_QUEUE,)
# Where batch scoring writes: each file's outputs, and the chunk parts of fanned-out files (expired
# by the data bucket's lifecycle rule).
BATCH_SCORED_PREFIX = "scored/"
# The health check lists this prefix (nothing is ever stored under it), one key at most: a bucket that
# answers exists and is readable. Unlike HeadBucket, which names no prefix, the listing lets the
# role's s3:ListBucket carry an s3:prefix condition.
HEALTH_PROBE_PREFIX = "health-probe/"
BATCH_PARTS_PREFIX = "batch-parts/"


# What every function serving REST routes takes from cdk.json: the browser origins CORS allows
# (comma-separated; none: no CORS headers, same-origin only) and the API key ids that may read a
# customer's full contact details (finscore.api.access).
# The methods a browser on an allowed origin may send (CORS preflight, in AWS and locally): the routes'
# own, custom models' upload, register and retire (PUT, DELETE) included.
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
API_CONTEXT = (
    ("CORS_ALLOWED_ORIGINS", "corsAllowedOrigins"),
    ("CUSTOMER_DATA_KEY_IDS", "customerDataApiKeyIds"),
)


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    env_var: str


# Files beyond one function's reach fan out over chunks through a Distributed Map and are joined back.
BATCH_STATE_MACHINE = StateMachineSpec("BatchScoreStateMachine", "BATCH_STATE_MACHINE_ARN")
# Model lifecycle events (ModelRegistered, ModelPromoted, ModelRejected, DriftDetected) go to this bus.
EVENT_BUS_ENV = "EVENT_BUS_NAME"
EVENT_SOURCE = "finscore.models"
# The CloudWatch namespace of every metric FinScore puts (Powertools EMF and the drift monitor's).
METRICS_NAMESPACE = "FinScore"
# The product a function belongs to (FunctionSpec.product), for what it does before a SnapStart snapshot.
PRODUCT_ENV = "FINSCORE_PRODUCT"
# Scoring functions write a sample of their inputs and outputs here for the drift monitor.
CAPTURE_PREFIX = "capture/"


# Authorization: the Cognito user pool's resource server and its scopes, one per purpose. The CDK app
# creates them and puts a route's scope on its method; the local run creates the same ones in the
# embedded Cognito, and its gateway checks them when FINSCORE_AUTH=cognito.
AUTH_RESOURCE_SERVER = "finscore"
USER_POOL_LOGICAL_ID = "ApiUserPool"


@dataclass(frozen=True)
class Scope:
    """An OAuth scope of the resource server: `<resource server>/<name>` in tokens and on methods."""

    name: str
    description: str

    @property
    def identifier(self) -> str:
        return f"{AUTH_RESOURCE_SERVER}/{self.name}"


SCORE_SCOPE = Scope("score", "Score records and read models, segments and metrics")
CUSTOMER_DATA_SCOPE = Scope("customers.read", "Read customers' data: profiles, transactions, search, "
                            "high-risk listings, interventions and full contact details")
INTERVENTIONS_SCOPE = Scope("interventions.write", "Create interventions, record their outcomes, render messages")
ADMIN_SCOPE = Scope("admin", "Promote, roll back and retrain models")
SCOPES = (SCORE_SCOPE, CUSTOMER_DATA_SCOPE, INTERVENTIONS_SCOPE, ADMIN_SCOPE)


@dataclass(frozen=True)
class AppClientSpec:
    """A user pool app client with the SCOPES its tokens may carry: machines' clients take client credentials
    (id and secret), the dashboard's signs people in."""

    logical_id: str
    scopes: tuple[Scope, ...]


# Bank and fintech systems call with the machine client; operators' tooling with the admin one, so
# that no system that scores can also promote or retrain a model.
MACHINE_CLIENT = AppClientSpec("MachineClient", (SCORE_SCOPE, CUSTOMER_DATA_SCOPE, INTERVENTIONS_SCOPE))
ADMIN_CLIENT = AppClientSpec("AdminClient", (ADMIN_SCOPE,))
APP_CLIENTS = (MACHINE_CLIENT, ADMIN_CLIENT)
# The dashboard's people sign in through the hosted UI (authorization code + PKCE, no secret in a
# browser) and get what operators read and do; promoting models stays with the admin client.
DASHBOARD_CLIENT = AppClientSpec("DashboardClient", (SCORE_SCOPE, CUSTOMER_DATA_SCOPE, INTERVENTIONS_SCOPE))


class Route(NamedTuple):
    """An API Gateway route: (method, path under /v1) and the scope a caller's token needs for it.

    A function's ROUTES may be declared as plain (method, path) pairs: they take the function's
    SCOPE. After construction every route of a FunctionSpec carries its scope; public routes none.
    """

    method: str
    path: str
    scope: Scope | None = None


# DynamoDB actions (IAM names without "dynamodb:") by what a function does with a table. A
# TransactWriteItems is authorised per item by PutItem, UpdateItem, DeleteItem or ConditionCheckItem.
KEY_READS = ("GetItem", "Query")
# Scan is granted by no kind: a function that must scan (a maintenance sweep) names it in table_actions.
LISTINGS = ("BatchGetItem",)
ITEM_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem")
HEALTH_ROUTE = Route("GET", "/health")
# The folder under functions/ of the handler every product's API function runs (finscore.products.api).
PRODUCT_API_FOLDER = "product_api"


@dataclass(frozen=True)
class FunctionSpec:
    """A function: its code, the resources it uses and what it serves."""

    name: str
    logical_id: str
    description: str
    buckets: tuple[BucketSpec, ...] = ()
    # Tables whose names it gets; it reads them by key (GetItem, Query) unless KEY_READS narrows that.
    tables: tuple[TableSpec, ...] = ()
    key_reads: tuple[TableSpec, ...] | None = None
    # Tables it changes (PutItem, UpdateItem, DeleteItem, BatchWriteItem, ConditionCheckItem).
    writes: tuple[TableSpec, ...] = ()
    # Tables it reads in batches (BatchGetItem).
    listings: tuple[TableSpec, ...] = ()
    # Exactly these DynamoDB actions on a table, where its code does less than the reads, writes and
    # listings above would grant (the integration suite checks every call a handler makes is granted).
    table_actions: tuple[tuple[TableSpec, tuple[str, ...]], ...] = ()
    memory_mb: int = 512
    timeout_s: int = 15
    # Its /tmp in MB (Lambda: 512..10240); more for functions that spool files larger than memory.
    ephemeral_storage_mb: int = 512
    # API Gateway routes as Route(method, path under /v1, scope) or (method, path) pairs taking SCOPE;
    # "{proxy+}" style paths are not used so that every route is visible in the template and the
    # OpenAPI document. Public routes need no credentials; admin routes need ADMIN_SCOPE.
    routes: tuple[Route | tuple[str, str], ...] = ()
    public_routes: tuple[Route | tuple[str, str], ...] = ()
    admin_routes: tuple[Route | tuple[str, str], ...] = ()
    # The scope of the ROUTES that do not name their own.
    scope: Scope = SCORE_SCOPE
    # "zip" functions use the shared and serving layers; "image" functions build functions/<code>/Dockerfile.
    package: str = "zip"
    # An image's pyproject dependency groups on top of the serving stack (infra/image_requirements.py
    # exports them from uv.lock into functions/<code>/requirements.txt).
    dependency_groups: tuple[str, ...] = ()
    # Its folder under functions/ when it is not NAME: product APIs share functions/product_api/.
    code: str | None = None
    # The product it belongs to, if any (its drift capture prefix, its settings).
    product: str | None = None
    # Where a queue-fed function writes its results (and reads them back to recognise a redelivery):
    # beside its queue's prefix, never under it, or every report would notify the queue again.
    output_prefixes: tuple[str, ...] = ()
    # Environment variables taken from CDK context (cdk.json): (variable, context key).
    context: tuple[tuple[str, str], ...] = ()
    # Event sources other than the REST API.
    streams: tuple[TableSpec, ...] = ()
    # The stream record kinds (INSERT, MODIFY, REMOVE) it is invoked for; empty: every record. The
    # event source mapping filters out the rest before invoking, in AWS and locally alike.
    stream_events: tuple[str, ...] = ()
    queue: QueueSpec | None = None
    websocket_routes: tuple[str, ...] = ()
    # What it sends: SNS topics it publishes to, SMS through SNS, email through SES, WebSocket posts.
    topics: tuple[TopicSpec, ...] = ()
    sends_sms: bool = False
    sends_email: bool = False
    posts_to_connections: bool = False
    # It scores with the product's serving path outside the product API (rescoring on new data) and counts
    # what it scores in the activity table; product APIs always do.
    counts_activity: bool = False

    def __post_init__(self) -> None:
        def scoped(routes: tuple, scope: Scope | None, fixed: bool) -> tuple[Route, ...]:
            declared = tuple(Route(*route) for route in routes)
            if fixed and any(route.scope not in (None, scope) for route in declared):
                raise ValueError(f"{self.name}: public and admin routes cannot name another scope")
            return tuple(route._replace(scope=scope if fixed else route.scope or scope) for route in declared)

        object.__setattr__(self, "routes", scoped(self.routes, self.scope, fixed=False))
        # Product APIs count their requests and what they score (finscore.activity); so do functions that score.
        if (self.counts_activity or self.code == PRODUCT_API_FOLDER) and ACTIVITY_TABLE not in self.tables:
            object.__setattr__(self, "tables", self.tables + (ACTIVITY_TABLE,))
            object.__setattr__(self, "table_actions", self.table_actions + (ACTIVITY_ACTIONS,))
        object.__setattr__(self, "public_routes", scoped(self.public_routes, None, fixed=True))
        object.__setattr__(self, "admin_routes", scoped(self.admin_routes, ADMIN_SCOPE, fixed=True))

    @property
    def folder(self) -> str:
        return self.code or self.name

    @property
    def all_routes(self) -> tuple[Route, ...]:
        """Every REST route it serves: its own, the public ones and the admin ones, each with its scope."""
        return self.routes + self.public_routes + self.admin_routes

    @property
    def serves_rest(self) -> bool:
        return bool(self.routes or self.public_routes or self.admin_routes)

    @property
    def snap_start(self) -> bool:
        """Whether it runs with Lambda SnapStart: a zip function serving a product's REST routes with
        the product's champion model, whose cold start is imports and a model load that a snapshot
        taken after init skips (image functions cannot use SnapStart)."""
        return self.package == "zip" and self.serves_rest and self.product is not None and MODELS_BUCKET in self.buckets

    @property
    def settings_context(self) -> tuple[tuple[str, str], ...]:
        """Every (variable, cdk.json context key) the function gets: its own, and the API's when it serves routes."""
        return self.context + (API_CONTEXT if self.serves_rest else ())

    @property
    def reads(self) -> tuple[TableSpec, ...]:
        return self.tables if self.key_reads is None else self.key_reads

    def dynamodb_actions(self) -> dict[TableSpec, tuple[str, ...]]:
        """The DynamoDB actions its role holds on each of its tables: what its reads, writes and
        listings imply (or its exact table_actions), UpdateItem on the registry for the admin routes
        (promote, rollback) and DescribeTable on every table for the health route."""
        exact = dict(self.table_actions)
        granted: dict[TableSpec, tuple[str, ...]] = {}
        for table in self.tables:
            actions = exact[table] if table in exact else (
                (KEY_READS if table in self.reads else ()) + (LISTINGS if table in self.listings else ())
                + (ITEM_WRITES if table in self.writes else ()))
            if self.admin_routes and table == REGISTRY_TABLE and "UpdateItem" not in actions:
                actions += ("UpdateItem",)
            if HEALTH_ROUTE in self.public_routes:
                actions += ("DescribeTable",)
            if actions:
                granted[table] = actions
        return granted


PLATFORM_API = FunctionSpec(
    name="platform_api",
    logical_id="PlatformApiFunction",
    description="FinScore platform routes: health, version, models, admin promote/rollback, OpenAPI",
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE, ACTIVITY_TABLE),
    # The activity figures are one Query per product.
    table_actions=((ACTIVITY_TABLE, ("Query",)),),
    routes=(
        ("GET", "/version"),
        ("GET", "/models"),
        ("GET", "/models/{product}"),
        ("GET", "/models/{product}/versions"),
        ("GET", "/models/{product}/drift"),
        ("GET", "/models/{product}/report"),
        ("GET", "/batch/files"),
        ("GET", "/activity"),
    ),
    # The API's own description is public, so that a browser can open the docs without a key.
    public_routes=(("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs")),
    admin_routes=(
        ("POST", "/models/{product}/promote"),
        ("POST", "/models/{product}/rollback"),
        ("POST", "/models/{product}/retrain"),
    ),
)

BATCH_SCORE = FunctionSpec(
    name="batch_score",
    logical_id="BatchScoreFunction",
    description="FinScore batch scoring: files under incoming/<product>/ scored into scored/<product>/<file>/",
    buckets=(DATA_BUCKET, MODELS_BUCKET),
    tables=(REGISTRY_TABLE, ACTIVITY_TABLE),
    table_actions=(ACTIVITY_ACTIONS,),
    memory_mb=3008,
    timeout_s=900,
    # The join of a fanned-out Parquet file spools the whole output through /tmp before the upload,
    # and fanned-out files are the ones too large for one function: Lambda's largest /tmp.
    ephemeral_storage_mb=10240,
    package="image",
    # The boosters score batch files natively where a version's booster agrees with its ONNX graph.
    dependency_groups=("tabular", "boosters"),
    queue=BATCH_INCOMING_QUEUE,
    output_prefixes=(BATCH_SCORED_PREFIX, BATCH_PARTS_PREFIX),
)

CUSTOM_API = FunctionSpec(
    name="custom_api",
    logical_id="CustomApiFunction",
    description="FinScore custom models: a user's table registered, trained in the background, scored and governed",
    buckets=(MODELS_BUCKET, DATA_BUCKET),
    tables=(REGISTRY_TABLE, CUSTOM_MODELS_TABLE, ACTIVITY_TABLE),
    # A definition is put, and retired, conditionally. Like the platform's, its admin routes may move a
    # champion in the registry (UpdateItem, added for admin routes).
    table_actions=((CUSTOM_MODELS_TABLE, KEY_READS + ("PutItem", "UpdateItem")), ACTIVITY_ACTIONS),
    timeout_s=29,
    routes=(
        ("GET", "/custom-models"),
        ("GET", "/custom-models/{name}"),
        ("POST", "/custom-models/{name}/score"),
        ("GET", "/custom-models/{name}/versions"),
        ("GET", "/custom-models/{name}/card"),
    ),
    admin_routes=(
        ("PUT", "/custom-models/{name}"),
        ("DELETE", "/custom-models/{name}"),
        ("POST", "/custom-models/{name}/promote"),
        ("POST", "/custom-models/{name}/rollback"),
        ("POST", "/custom-models/{name}/retrain"),
        ("PUT", "/custom-models/{name}/files/{file}"),
    ),
)

MODEL_RETRAIN = FunctionSpec(
    name="model_retrain",
    logical_id="ModelRetrainFunction",
    description="FinScore retraining: data from training/<product>/, the promotion gate, lifecycle events",
    buckets=(DATA_BUCKET, MODELS_BUCKET),
    tables=(REGISTRY_TABLE, CUSTOM_MODELS_TABLE),
    # It registers versions and, through the promotion gate, moves the champion (a transaction); it
    # reads a custom model's definition, records its run's status, and starts runs of every custom
    # model on their schedule or on drift.
    table_actions=((REGISTRY_TABLE, KEY_READS + ("PutItem", "UpdateItem", "ConditionCheckItem")),
                   (CUSTOM_MODELS_TABLE, KEY_READS + ("PutItem", "UpdateItem"))),
    memory_mb=3008,
    timeout_s=900,
    package="image",
    dependency_groups=("training",),
    # A deployment trains on its users' files only; the local run may fall back to synthetic data.
    context=(("ALLOW_SYNTHETIC_TRAINING", "allowSyntheticTraining"),),
)

DRIFT_MONITOR = FunctionSpec(
    name="drift_monitor",
    logical_id="DriftMonitorFunction",
    description="FinScore drift: captured scoring inputs against the champion's training baseline",
    buckets=(DATA_BUCKET, MODELS_BUCKET),
    # It lists the custom models (their index) to watch them as products are.
    tables=(REGISTRY_TABLE, CUSTOM_MODELS_TABLE),
    memory_mb=1024,
    timeout_s=900,
    package="image",
)

# The platform's own functions; products add theirs (finscore.products.all_functions).
FUNCTIONS = (PLATFORM_API, CUSTOM_API, BATCH_SCORE, MODEL_RETRAIN, DRIFT_MONITOR)
API_BASE_PATH = "/v1"


def local_name(logical_id: str) -> str:
    """The physical name a resource gets in the local run: finscore-local-<kebab logical id>."""
    kebab = "".join(f"-{c.lower()}" if c.isupper() else c for c in logical_id).lstrip("-")
    return f"{LOCAL_PREFIX}-{kebab}"
