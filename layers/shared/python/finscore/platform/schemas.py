"""Request and response models of the platform routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class HealthCheck(BaseModel):
    name: Annotated[str, Field(description="What was checked: bucket:<logical id>, table:<logical id>, registry "
                                           "(versions are registered), model:<product> (its champion loads)")]
    ok: Annotated[bool, Field(description="Whether it passed")]
    reason: Annotated[str, Field(description="What was found when it passed; why it failed otherwise")]


class HealthResponse(BaseModel):
    status: Annotated[Literal["ok", "degraded"], Field(description="ok (200) when every check passed, "
                                                                   "degraded (503) otherwise")]
    checks: Annotated[list[HealthCheck], Field(description="Every bucket and table, the registry and each "
                                                           "product's champion, in that order")]


class VersionResponse(BaseModel):
    service: str = "finscore"
    version: Annotated[str, Field(description="FinScore release")]
    api: Annotated[str, Field(description="API base path version")] = "v1"
    stage: Annotated[str, Field(description="Deployment stage")]


class VersionSummary(BaseModel):
    version: str
    status: Annotated[str, Field(description="candidate | champion | rejected | archived")]
    created_at: str
    primary_metric: str
    primary_value: float
    status_reason: str = ""


class ProductModel(BaseModel):
    product: str
    champion_version: Annotated[str | None, Field(description="Version serving requests, if any")]
    primary_metric: str | None = None
    primary_value: float | None = None


class ModelsResponse(BaseModel):
    models: list[ProductModel]


class ModelDetailResponse(BaseModel):
    product: str
    champion_version: str | None
    metrics: Annotated[dict[str, Any], Field(description="Held-out metrics of the champion (test split)")]
    primary_metric: str | None = None
    features: Annotated[list[dict[str, Any]], Field(description="Input features in model order")] = []
    outputs: list[dict[str, Any]] = []
    thresholds: dict[str, Any] = {}
    hyperparameters: Annotated[dict[str, Any], Field(description="What the champion was fitted with")] = {}
    parity: Annotated[dict[str, Any] | None, Field(description="ONNX against native model on held-out data")] = None
    training_data: dict[str, Any] | None = None
    library_versions: dict[str, str] = {}
    versions: Annotated[list[VersionSummary], Field(description="Every registered version, newest first")]


class VersionRecord(VersionSummary):
    metrics: Annotated[dict[str, Any], Field(description="Held-out metrics (numbers) of this version")] = {}
    hyperparameters: Annotated[dict[str, Any], Field(description="What it was fitted with, and how they were "
                                                                 "chosen")] = {}
    training_data: Annotated[dict[str, Any], Field(description="Data reference, row count and split sizes")] = {}
    promoted_by: Annotated[str | None, Field(description="Who or what made it champion: the promotion gate of a "
                                                         "retraining run, an admin (key id), the local model cache")] = None
    promoted_at: Annotated[str | None, Field(description="When it last became champion")] = None
    gate: Annotated[dict[str, Any], Field(
        description="The promotion gate's comparison with the champion of the day: the rows both were scored on "
                    "and how they were chosen, the metric difference and its bootstrap interval")] = {}


class VersionHistory(BaseModel):
    product: str
    champion_version: str | None
    versions: Annotated[list[VersionRecord], Field(description="Every registered version, newest first")]


class PromoteRequest(BaseModel):
    version: Annotated[str, Field(min_length=1, max_length=128, description="Registered version to promote")]
    reason: Annotated[str, Field(max_length=500, description="Why; kept in the registry")] = "promoted by admin"


class RollbackRequest(BaseModel):
    reason: Annotated[str, Field(max_length=500, description="Why; kept in the registry")] = "rolled back by admin"


class ChampionChange(BaseModel):
    product: str
    champion_version: str
    previous_version: str | None


class RetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: Annotated[dict[str, Any], Field(description="Hyperparameters for the product's trainer, e.g. "
                                                        "{\"tree_depths\": [3]} or {\"rounds\": 200}")] = {}
    rows: Annotated[int | None, Field(ge=100, le=1_000_000,
                                      description="Rows of synthetic data, used when no training files exist")] = None
    seed: Annotated[int, Field(ge=0, description="Seed of the split and the fit")] = 7
    tolerance: Annotated[float | None, Field(ge=0, le=1, description="Promotion gate tolerance on the "
                                                                     "primary metric (default 0.01)")] = None
    reason: Annotated[str, Field(max_length=500, description="Why (kept in the logs and events)")] = "admin request"


class RetrainAccepted(BaseModel):
    retrain_id: Annotated[str, Field(description="Id of the run; its rejects report is "
                                                 "training-reports/<product>/<retrain_id>.json")]
    product: str
    status: Literal["accepted"] = "accepted"


class DriftFeature(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    kind: Annotated[str, Field(description="numeric (KS) | categorical (chi-squared)")]
    psi: float
    level: Annotated[str, Field(description="ok | warn (PSI >= 0.1) | alert (PSI >= 0.25)")]
    test: str
    statistic: float
    p_value: float


class DriftReport(BaseModel):
    model_config = ConfigDict(extra="allow")

    product: str
    model_version: str
    generated_at: str
    status: Annotated[str, Field(description="ok | warn | alert | insufficient_data")]
    max_psi: float | None
    thresholds: dict[str, float]
    sample: dict[str, Any]
    features: list[DriftFeature]


class ModelReport(BaseModel):
    model_config = ConfigDict(extra="allow")

    product: str
    version: Annotated[str, Field(description="The champion version the report belongs to")]
    report: Annotated[dict[str, Any], Field(description="The evaluation report training wrote beside the model "
                                                        "(held-out metrics, and per product e.g. ROC and PR curve "
                                                        "points, calibration by level, feature importance)")]


class BatchReject(BaseModel):
    row: Annotated[int, Field(description="Row number in the input file (1 = first data row; 0 = the whole file)")]
    reason: str


class BatchFile(BaseModel):
    product: str
    name: Annotated[str, Field(description="The input file's name under incoming/<product>/")]
    manifest: Annotated[dict[str, Any], Field(description="Its _manifest.json: rows in, scored, rejected, model "
                                                          "version, timings, input ETag, output keys")]
    rejects: Annotated[list[BatchReject], Field(description="The first rejects (row and reason); the manifest "
                                                            "counts them all")] = []


class BatchFilesResponse(BaseModel):
    files: Annotated[list[BatchFile], Field(description="Scored files, most recently finished first")]


class ActivityPeriod(BaseModel):
    period: Annotated[str, Field(description="The UTC hour (2026-12-03T10) or day (2026-12-03)")]
    requests: Annotated[int, Field(description="API requests to the product's routes")] = 0
    ok: Annotated[int, Field(description="Requests answered 2xx or 3xx")] = 0
    client_errors: Annotated[int, Field(description="Requests answered 4xx")] = 0
    server_errors: Annotated[int, Field(description="Requests answered 5xx")] = 0
    records: Annotated[int, Field(description="Records scored, by the API and batch files")] = 0
    online_records: Annotated[int, Field(description="Scored on request: the API and event-driven rescoring")] = 0
    batch_records: Annotated[int, Field(description="Scored in batch files")] = 0
    means: Annotated[dict[str, float], Field(description="Mean of each numeric output over the records scored")] = {}
    counts: Annotated[dict[str, dict[str, int]], Field(
        description="Records by value of each categorical output (e.g. risk_level); values past the first 12 of "
                    "an hour are counted as 'other'; batch blocks over 20,000 rows are counted on a random sample")] = {}


class ProductActivity(BaseModel):
    product: str
    totals: Annotated[ActivityPeriod, Field(description="The whole window (period: its first and last period)")]
    series: Annotated[list[ActivityPeriod], Field(description="Every period of the window, oldest first; "
                                                              "periods without activity are zeros")]


class ActivityResponse(BaseModel):
    by: Annotated[str, Field(description="hour | day (UTC)")]
    first: str
    last: str
    products: list[ProductActivity]
    note: str = ("Counted in memory by each function and added to the activity table every 10 s: counts an "
                 "execution environment held when it was recycled are missing")
