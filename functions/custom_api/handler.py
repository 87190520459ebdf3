"""Custom models: a user's own table registered (training starts in the background), followed, scored,
promoted, rolled back, retrained and retired."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.api.access import admin_actor as caller_admin
from finscore.api.errors import route_responses
from finscore.api.resolver import create_resolver
from finscore.observability import logger, metrics, tracer
from finscore.platform import service as platform
from finscore.platform.schemas import ChampionChange, PromoteRequest, RollbackRequest, VersionHistory
from finscore.products.custom import service
from finscore.products.custom.api_models import (
    CustomModelList,
    CustomModelRequest,
    CustomModelStatus,
    CustomRetrainRequest,
    CustomScoreRequest,
    CustomScoreResponse,
    FileStored,
    TrainingAccepted,
)
from finscore.products.custom.definition import NAME_PATTERN, model_key

app = create_resolver()
NamePath = Annotated[str, Path(pattern=NAME_PATTERN, description="The custom model's name: lowercase letters, "
                                                                 "digits and '-', 2-40 characters")]


def admin_actor() -> str:
    """Who called an admin route: its token's client or user, or without a token its API key id."""
    return caller_admin(app.current_event)


@app.put("/v1/custom-models/<name>", tags=["custom models"], summary="Register a table's model and train it (202)",
         description="Reads every file under the data prefix (default training/custom/<name>/): types inferred, "
                     "free text and ID-like columns refused, leakage guarded, a regularised baseline and boosted "
                     "trees compared on validation, the better calibrated and exported to ONNX. GET follows the run.",
         responses=route_responses(404, 409, 422, ok={202: "Training queued"},
                                   s409="No files under the data prefix, or a run is training now"))
def register(name: NamePath, request: Annotated[CustomModelRequest, Body()]) -> Response[TrainingAccepted]:
    accepted = service.register(name, request, admin_actor())
    logger.info("Custom model training queued", extra={"custom_model": name, "training_id": accepted.training_id})
    return Response(status_code=202, content_type="application/json", body=accepted)


@app.put("/v1/custom-models/<name>/files/<file>", tags=["custom models"],
         summary="Upload a training file (CSV or JSON Lines, up to 5 MB) under training/custom/<name>/",
         description="The body is the file itself. Larger files, Parquet and Excel go to the data bucket directly "
                     "(aws s3 cp, or `finscore custom create`).",
         responses=route_responses(413, 422, ok={201: "Stored"}))
def upload(name: NamePath, file: Annotated[str, Path(description="The file's name: .csv, .jsonl or .json")]
           ) -> Response[FileStored]:
    event = app.current_event
    body = event.decoded_body if event.is_base64_encoded else event.body
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    return Response(status_code=201, content_type="application/json", body=service.upload(name, file, data))


@app.get("/v1/custom-models/<name>/card", tags=["custom models"], summary="The champion's model card (Markdown)",
         responses={**route_responses(404, s404="No such model, or none ready"),
                    200: {"description": "The card", "content": {"text/markdown": {"schema": {"type": "string"}}}}})
def card(name: NamePath) -> Response[str]:
    return Response(status_code=200, content_type="text/markdown; charset=utf-8", body=service.card(name))


@app.get("/v1/custom-models", tags=["custom models"], summary="Every custom model and its status")
def list_models() -> CustomModelList:
    return service.list_models()


@app.get("/v1/custom-models/<name>", tags=["custom models"],
         summary="A custom model: status with reasons, inferred schema, chosen model and baseline, leakage report",
         responses=route_responses(404, s404="No such custom model"))
def describe(name: NamePath) -> CustomModelStatus:
    return service.describe(name)


@app.delete("/v1/custom-models/<name>", tags=["custom models"], summary="Retire a custom model (it stops scoring)",
            responses=route_responses(404, s404="No such custom model"))
def retire(name: NamePath) -> CustomModelStatus:
    return service.retire(name, admin_actor())


@app.post("/v1/custom-models/<name>/score", tags=["custom models"],
          summary="Score up to 1,000 records: probability and decision, or value, with up to 4 reasons each",
          responses=route_responses(404, 409, 422, s404="No such custom model",
                                    s409="Retired, or no version serves it yet (its run failed or is training)"))
def score(name: NamePath, request: Annotated[CustomScoreRequest, Body()]) -> CustomScoreResponse:
    return service.score(name, request.records)


@app.get("/v1/custom-models/<name>/versions", tags=["custom models"], summary="Every version with its metrics",
         responses=route_responses(404, s404="No such custom model"))
def versions(name: NamePath) -> VersionHistory:
    service.describe_item(name)
    return platform.history_of(model_key(name))


@app.post("/v1/custom-models/<name>/promote", tags=["admin"], summary="Make a registered version the champion",
          responses=route_responses(404, 409, 422, s404="No such custom model or version"))
def promote(name: NamePath, request: Annotated[PromoteRequest, Body()]) -> ChampionChange:
    service.describe_item(name)
    return platform.promote_version(model_key(name), request.version, request.reason, admin_actor())


@app.post("/v1/custom-models/<name>/rollback", tags=["admin"], summary="Restore the previous champion",
          responses=route_responses(404, 409, s404="No such custom model", s409="No previous champion"))
def rollback(name: NamePath,
             request: Annotated[RollbackRequest, Body()] = RollbackRequest()) -> ChampionChange:
    service.describe_item(name)
    return platform.roll_back(model_key(name), request.reason, admin_actor())


@app.post("/v1/custom-models/<name>/retrain", tags=["admin"], summary="Train again from the stored definition (202)",
          responses=route_responses(404, 409, ok={202: "Training queued"}, s404="No such custom model",
                                    s409="No files under the data prefix, or a run is training now"))
def retrain(name: NamePath,
            request: Annotated[CustomRetrainRequest, Body()] = CustomRetrainRequest()) -> Response[TrainingAccepted]:
    accepted = service.retrain(name, admin_actor(), request.seed)
    return Response(status_code=202, content_type="application/json", body=accepted)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
