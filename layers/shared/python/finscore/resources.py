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


MODELS_BUCKET = BucketSpec("ModelsBucket", "MODELS_BUCKET", versioned=True)
DATA_BUCKET = BucketSpec("DataBucket", "DATA_BUCKET")
BUCKETS = (MODELS_BUCKET, DATA_BUCKET)

# One item per (product, version); the champion pointer of a product lives under CHAMPION_KEY.
REGISTRY_TABLE = TableSpec("ModelRegistryTable", "REGISTRY_TABLE", KeyAttribute("product"), KeyAttribute("version"))
TABLES = (REGISTRY_TABLE,)


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
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
    ),
    public_routes=(("GET", "/health"),),
    admin_routes=(
        ("POST", "/models/{product}/promote"),
        ("POST", "/models/{product}/rollback"),
    ),
)

RECOMMEND_API = FunctionSpec(
    name="recommend_api",
    logical_id="RecommendApiFunction",
    description="FinScore banking product recommendations",
    buckets=(MODELS_BUCKET,),
    tables=(REGISTRY_TABLE,),
    routes=(
        ("POST", "/recommendations"),
        ("GET", "/recommendations/segments"),
    ),
)

FUNCTIONS = (PLATFORM_API, RECOMMEND_API)
API_BASE_PATH = "/v1"


def local_name(logical_id: str) -> str:
    """The physical name a resource gets in the local run: finscore-local-<kebab logical id>."""
    kebab = "".join(f"-{c.lower()}" if c.isupper() else c for c in logical_id).lstrip("-")
    return f"{LOCAL_PREFIX}-{kebab}"
