"""Platform routes: health, version, the model catalogue and drift, admin promote/rollback/retrain, the API docs."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore import __version__
from finscore.api.access import admin_actor as caller_admin
from finscore.api.docs import openapi_document, swagger_page
from finscore.api.errors import route_responses
from finscore.api.resolver import create_resolver
from finscore.observability import logger, metrics, tracer
from finscore.platform import service
from finscore.platform.schemas import (
    ActivityResponse,
    BatchFilesResponse,
    ChampionChange,
    DriftReport,
    HealthResponse,
    ModelDetailResponse,
    ModelReport,
    ModelsResponse,
    PromoteRequest,
    RetrainAccepted,
    RetrainRequest,
    RollbackRequest,
    VersionHistory,
    VersionResponse,
)
from finscore.products import products
from finscore.settings import PlatformSettings, load_settings

app = create_resolver()
# The product names in the path's documentation come from the registry.
ProductPath = Annotated[str, Path(description=" | ".join(products()))]


def admin_actor() -> str:
    """Who called an admin route: its token's client or user, or without a token its API key id."""
    return caller_admin(app.current_event)


@app.get("/v1/health", tags=["platform"], summary="Health of S3, DynamoDB and the served models (no key)",
         description="ok only when every bucket and table answers, the registry holds versions and every product's "
                     "champion loads (its manifest and every artifact present with its sha256). Each check names "
                     "what it found or why it failed.",
         responses={
             200: {"description": "Every check passed", "content": {"application/json": {"model": HealthResponse}}},
             503: {"description": "A check failed; its reason says why",
                   "content": {"application/json": {"model": HealthResponse}}},
         })
def health() -> Response[HealthResponse]:
    report = service.check_health()
    return Response(status_code=200 if report.status == "ok" else 503, content_type="application/json", body=report)


@app.get("/v1/version", tags=["platform"], summary="FinScore release and API version")
def version() -> VersionResponse:
    return VersionResponse(version=__version__, stage=load_settings(PlatformSettings).stage)


@app.get("/v1/models", tags=["models"], summary="Champion model of every product")
def models() -> ModelsResponse:
    return service.list_models()


@app.get("/v1/models/<product>", tags=["models"], summary="Held-out metrics, features and versions of a product",
         description="A product without a champion yet answers 200 with champion_version null and its versions "
                     "(candidates, rejected): there is nothing wrong to report. 404 is an unknown product only. "
                     "503 (model_unavailable) when the registry names a champion whose manifest or artifacts are "
                     "missing or fail their sha256 check, each named in details; 503 also when the registry or "
                     "the model store cannot be reached. A 503 is worth retrying; the product cannot serve meanwhile.",
         responses=route_responses(404, 503, s404="Unknown product",
                                   s503="The registry or model store is unreachable, or the champion's files are "
                                   "missing or fail their check"))
def model_detail(product: ProductPath) -> ModelDetailResponse:
    return service.describe_model(product)


@app.get("/v1/models/<product>/versions", tags=["models"],
         summary="Every version of a product with its metrics, hyperparameters, data and promotion",
         responses=route_responses(404, s404="Unknown product"))
def model_versions(product: ProductPath) -> VersionHistory:
    return service.version_history(product)


@app.post("/v1/models/<product>/promote", tags=["admin"], summary="Make a registered version the champion",
          description="404 for an unregistered version; 409 (conflict) for a rejected version, a champion moved "
                      "concurrently, or a version whose manifest or artifacts are missing or fail their sha256 "
                      "check (details name each artifact, with the stored and expected sha256).",
          responses=route_responses(404, 409, s404="Unknown product or version",
                                    s409="The version was rejected, its artifacts fail their check, or the "
                                    "champion changed concurrently"))
def promote(product: ProductPath, request: Annotated[PromoteRequest, Body()]) -> ChampionChange:
    change = service.promote_model(product, request.version, request.reason, admin_actor())
    logger.info("Champion promoted by admin", extra=change.model_dump())
    return change


@app.post("/v1/models/<product>/rollback", tags=["admin"], summary="Restore the previous champion",
          description="409 (conflict) when there is no previous champion, or when its manifest or artifacts are "
                      "missing or fail their sha256 check (details name each one); the champion stays as it is.",
          responses=route_responses(404, 409, s404="Unknown product",
                                    s409="No previous champion, or the champion changed concurrently"))
def rollback(product: ProductPath, request: Annotated[RollbackRequest, Body()] = RollbackRequest()) -> ChampionChange:
    change = service.rollback_model(product, request.reason, admin_actor())
    logger.info("Champion rolled back by admin", extra=change.model_dump())
    return change


@app.get("/v1/models/<product>/drift", tags=["models"], summary="Latest drift report of a product's champion",
         responses=route_responses(404, s404="Unknown product, or no drift report yet"))
def drift(product: ProductPath) -> DriftReport:
    return service.latest_drift(product)


@app.get("/v1/models/<product>/report", tags=["models"], summary="Evaluation report of a product's champion",
         description="The JSON report training wrote beside the champion: held-out metrics and what the product "
                     "adds (risk: ROC and PR curve points, confusion matrix, calibration by level).",
         responses=route_responses(404, 503, s404="Unknown product, no champion, or a champion without a report",
                                   s503="The champion's files are missing or fail their check"))
def model_report(product: ProductPath) -> ModelReport:
    return service.champion_report(product)


@app.get("/v1/batch/files", tags=["batch"], summary="Scored batch files with their manifests and first rejects",
         responses=route_responses(404, s404="Unknown product"))
def batch_files(
    product: Annotated[str | None, Query(description=" | ".join(products()) + " (default: every product)")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="How many files, most recently finished first")] = 20,
) -> BatchFilesResponse:
    return service.scored_files(product, limit)


@app.get("/v1/activity", tags=["models"], summary="Requests, records scored and score trends by hour or day",
         responses=route_responses(404, s404="Unknown product"))
def activity(
    product: Annotated[str | None, Query(description=" | ".join(products()) + " (default: every product)")] = None,
    by: Annotated[Literal["hour", "day"], Query(description="Periods of the series (UTC)")] = "day",
    days: Annotated[int, Query(ge=1, le=90, description="How many days back from now")] = 14,
) -> ActivityResponse:
    return service.product_activity(product, by, days)


@app.post("/v1/models/<product>/retrain", tags=["admin"], summary="Start a retraining run (202; the gate decides)",
          responses=route_responses(404, ok={202: "Retraining queued"}, s404="Unknown product, or one without a trainer"))
def retrain(product: ProductPath,
            request: Annotated[RetrainRequest, Body()] = RetrainRequest()) -> Response[RetrainAccepted]:
    accepted = service.start_retrain(product, request)
    logger.info("Retraining queued by admin", extra={**accepted.model_dump(), "reason": request.reason})
    return Response(status_code=202, content_type="application/json", body=accepted)


@app.get("/v1/openapi.json", tags=["platform"], summary="OpenAPI document of the whole API", include_in_schema=False)
def openapi():  # unannotated: served as-is, not re-validated as a response model
    return Response(status_code=200, content_type="application/json", body=openapi_document())


@app.get("/v1/docs", tags=["platform"], summary="Swagger UI", include_in_schema=False)
def docs():  # unannotated: an HTML body must not be JSON-encoded
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=swagger_page())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
