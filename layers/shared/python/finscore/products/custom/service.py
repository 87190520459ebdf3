"""Custom models on the serving path: register a user's table and start its training, follow it, score.

A custom model is a product declared by data: its definition lives in the custom models table, its
versions in the model registry and store under model_key(name), like every product's, so that
promotion, rollback, the gate and the model store's checks are the platform's own. Training runs in
the retrain function (training.custom.run), started by an asynchronous invocation; this function
only records the definition and answers 202.
"""

from __future__ import annotations

import re
import uuid
from functools import lru_cache
from typing import Annotated, Any, Mapping, Sequence

from pydantic import Field, ValidationError

from finscore import resources
from finscore.api.body import check_body_size
from finscore.api.errors import validation_issues
from finscore.dynamo import ConditionFailed
from finscore.errors import Conflict, FieldIssue, ModelUnavailable, NotFound, ServiceUnavailable, ValidationFailed
from finscore.models.champion import ChampionCache, serving_champion
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.products.custom.api_models import (
    CustomModelList,
    CustomModelRequest,
    CustomModelStatus,
    CustomScore,
    CustomScoreResponse,
    FileStored,
    RecordError,
    TrainingAccepted,
)
from finscore.products.custom.definition import CustomDefinition, model_key
from finscore.products.custom.store import CustomModels
from finscore.products.custom.spec import custom_product, for_version
from finscore.products.scoring import Scorer, row_outputs
from finscore.remembered import Remembered
from finscore.s3 import Bucket
from finscore.settings import ModelServingSettings, load_settings

# How many of a run's reasons (failures, rejected rows) an answer lists; the run's report has them all.
MAX_REASONS = 50
# What GET shows of the champion's manifest (training.custom.product describes each).
MODEL_SUMMARY = ("model", "schema", "columns", "leakage", "selection", "candidates", "baseline", "comparison",
                 "importance", "calibration", "rows", "card", "target")


class CustomSettings(ModelServingSettings):
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
    custom_models_table: Annotated[str, Field(alias=resources.CUSTOM_MODELS_TABLE.env_var, min_length=3)]
    # The function a PUT starts training in; training is unavailable (503) without it.
    retrain_function_name: Annotated[str | None, Field(alias="RETRAIN_FUNCTION_NAME")] = None


def _settings() -> CustomSettings:
    return load_settings(CustomSettings)


def _models() -> CustomModels:
    return CustomModels(_settings().custom_models_table)


def _registry() -> ModelRegistry:
    return ModelRegistry(_settings().registry_table)


def _store() -> ModelStore:
    return ModelStore(_settings().models_bucket)


def definition_of(name: str, request: CustomModelRequest) -> CustomDefinition:
    """NAME's definition from the request; ValidationFailed (422) naming each bad field otherwise."""
    try:
        return CustomDefinition(name=name, **request.model_dump(exclude_defaults=True))
    except ValidationError as exc:
        issues = validation_issues(exc.errors())
        raise ValidationFailed(f"{len(issues)} field(s) of the definition failed validation", issues) from exc


def register(name: str, request: CustomModelRequest, actor: str) -> TrainingAccepted:
    """Store NAME's definition and start training it on the files under its data prefix."""
    return _start(definition_of(name, request), actor)


def retrain(name: str, actor: str, seed: int = 7) -> TrainingAccepted:
    """Train NAME again from its stored definition (new files under its prefix, the same columns' roles)."""
    item = _item(name)
    return _start(CustomDefinition.model_validate(item["definition"]), actor, seed)


def _start(definition: CustomDefinition, actor: str, seed: int = 7) -> TrainingAccepted:
    from finscore.platform.retraining import invoke_retrain

    settings = _settings()
    where = f"s3://{settings.data_bucket}/{definition.data_prefix}"
    if next(iter(Bucket(settings.data_bucket).keys(definition.data_prefix)), None) is None:
        raise Conflict(f"No files under {where}: put the table there first (CSV, JSON Lines, Parquet or Excel)",
                       [FieldIssue("data", f"no files under {definition.data_prefix}")])
    if not settings.retrain_function_name:
        raise ServiceUnavailable("Training is not configured (RETRAIN_FUNCTION_NAME is unset)")
    training_id = str(uuid.uuid4())
    models = _models()
    try:
        models.register(definition.name, definition.model_dump(mode="json"), training_id, actor)
    except ConditionFailed as exc:
        raise Conflict(f"{definition.name} is training now; register it again when its run has finished",
                       [FieldIssue("name", "a run is in progress")]) from exc
    _definitions.forget(definition.name)
    try:
        invoke_retrain(settings.retrain_function_name,
                       {"custom_model": definition.name, "training_id": training_id, "trigger": "admin",
                        "seed": seed})
    except ServiceUnavailable as exc:
        models.record(definition.name, training_id, "failed", reasons=[{"issue": f"training could not start: {exc.message}"}])
        raise
    return TrainingAccepted(name=definition.name, training_id=training_id, data=where)


def describe_item(name: str) -> dict[str, Any]:
    """NAME's stored item; NotFound (404) when there is no such custom model."""
    return _item(name)


# Files the API takes in its body: text tables (Parquet and Excel go to the bucket directly).
UPLOAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.(csv|jsonl|json)$")


def upload(name: str, file: str, body: bytes) -> FileStored:
    """BODY stored as FILE under NAME's default data prefix, where a PUT of NAME trains from."""
    if not UPLOAD_NAME.match(file):
        raise ValidationFailed("The file name must end in .csv, .jsonl or .json and hold only letters, digits, "
                               "'.', '_' and '-'", [FieldIssue("file", "not a .csv, .jsonl or .json file name")])
    check_body_size(len(body))
    if not body:
        raise ValidationFailed("The file is empty", [FieldIssue("body", "empty")])
    key = f"{resources.CUSTOM_TRAINING_PREFIX}{name}/{file}"
    Bucket(_settings().data_bucket).write(key, body, "text/csv" if file.endswith(".csv") else "application/x-ndjson")
    return FileStored(name=name, key=key, bytes=len(body))


def card(name: str) -> str:
    """The model card (Markdown) of NAME's champion."""
    _item(name)
    key = model_key(name)
    champion_version = _registry().champion_version(key)
    if champion_version is None:
        raise NotFound(f"{name} has no serving version yet, so no model card", [FieldIssue("name", "not ready")])
    store = _store()
    manifest = store.read_manifest(key, champion_version)
    document = manifest.extra.get("card") or {}
    if document.get("markdown") not in manifest.artifacts:
        raise NotFound(f"{name} {champion_version} has no model card", [FieldIssue("name", "no card")])
    return store.read_artifact(manifest, document["markdown"]).decode("utf-8")


def _item(name: str) -> dict[str, Any]:
    item = _models().get(name)
    if item is None:
        raise NotFound(f"No custom model {name!r}; PUT /v1/custom-models/{name} registers one",
                       [FieldIssue("name", "not a custom model")])
    return item


def status_of(item: Mapping[str, Any], *, detail: bool) -> CustomModelStatus:
    """ITEM's answer; with DETAIL, what its champion's manifest says about the model (one S3 read)."""
    key = model_key(item["name"])
    registry = _registry()
    champion = registry.champion_version(key)
    model: dict[str, Any] = {}
    if detail and champion is not None:
        manifest = _store().read_manifest(key, champion)
        model = {name: manifest.extra[name] for name in MODEL_SUMMARY if name in manifest.extra}
        model.update(version=manifest.version, metrics=manifest.metrics, primary_metric=manifest.primary_metric,
                     thresholds=manifest.thresholds, trained_at=manifest.created_at,
                     training_data=manifest.training_data.model_dump(mode="json"))
    return CustomModelStatus(
        name=item["name"], status=item["status"], definition=item["definition"], training_id=item.get("training_id"),
        created_at=item["created_at"], updated_at=item["updated_at"],
        reasons=list(item.get("reasons") or [])[:MAX_REASONS], rejected_rows=int(item.get("rejected_rows") or 0),
        model_key=key, champion_version=champion, last_run=dict(item.get("last_run") or {}), model=model,
    )


def describe(name: str) -> CustomModelStatus:
    return status_of(_item(name), detail=True)


def list_models() -> CustomModelList:
    return CustomModelList(models=[status_of(item, detail=False) for item in _models().all()])


def retire(name: str, actor: str) -> CustomModelStatus:
    """NAME no longer scores (409); its versions stay in the registry, and a PUT registers it again."""
    item = _models().retire(name, actor)
    if item is None:
        raise NotFound(f"No custom model {name!r}", [FieldIssue("name", "not a custom model")])
    _definitions.forget(name)
    return status_of(item, detail=False)


# A warm function remembers each model's definition item briefly: a retired model stops scoring (and a
# registered one starts) within this many seconds in every other warm function.
DEFINITION_TTL_S = 30.0
_definitions: Remembered[dict[str, Any] | None] = Remembered()


def _definition(name: str) -> dict[str, Any] | None:
    return _definitions.get(name, lambda: _models().get(name), DEFINITION_TTL_S)


@lru_cache(maxsize=64)
def champion(name: str) -> ChampionCache:
    """The execution environment's champion cache of custom model NAME (re-checked every REGISTRY_TTL)."""
    from finscore.products.custom.model import CustomModel

    return serving_champion(model_key(name), CustomModel.load, _settings())


def reset() -> None:
    """Forget remembered definitions and champions (tests that start from empty stores call this)."""
    _definitions.forget()
    champion.cache_clear()


def score(name: str, records: Sequence[Any]) -> CustomScoreResponse:
    """Each record's probability and decision (binary) or value (regression) with up to 4 reasons; a
    record that cannot be scored fails alone, naming each bad field."""
    item = _definition(name)
    if item is None:
        raise NotFound(f"No custom model {name!r}", [FieldIssue("name", "not a custom model")])
    if item["status"] == "retired":
        raise Conflict(f"{name} is retired; PUT /v1/custom-models/{name} registers it again",
                       [FieldIssue("name", "retired")])
    try:
        loaded = champion(name).get()
    except ModelUnavailable as exc:
        if item["status"] == "ready":
            raise  # a ready model whose version cannot load: the store's fault, a 503
        raise Conflict(f"{name} has no version that serves yet: its last run is {item['status']}; "
                       f"GET /v1/custom-models/{name} says why", [FieldIssue("name", f"{item['status']}, no version")]) from exc
    model = loaded.model
    schema = model.schema
    issues = schema.record_issues(records)
    errors = [RecordError(index=index, message=f"{len(found)} field(s) cannot be scored",
                          details=[{"field": issue.field, "issue": issue.issue} for issue in found])
              for index, found in issues.items()]
    good = [index for index in range(len(records)) if index not in issues]
    rows = [records[index] for index in good]
    results: list[CustomScore] = []
    if rows:
        # The platform's Scorer, as every product's API: drift capture and activity counting come with it.
        scorer = Scorer(for_version(custom_product(model_key(name)), loaded.manifest), loaded, capture=True,
                        counted="online")
        matrix = scorer.matrix(rows)
        outputs = scorer.predict_matrix(matrix, rows)
        reasons = model.reasons(matrix, rows)
        ids = [row.get(schema.id_column) for row in rows] if schema.id_column else [None] * len(rows)
        for position, index in enumerate(good):
            answer = row_outputs(outputs, position)
            results.append(CustomScore(index=index, id=ids[position], reasons=reasons[position], **answer))
    return CustomScoreResponse(name=name, model_version=loaded.version, threshold=getattr(model, "threshold", None),
                               scored=len(results), failed=len(errors), results=results, errors=errors)
