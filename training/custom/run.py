"""One training run of a custom model in the retrain function: {"custom_model", "training_id"}.

    the stored definition -> files under its data prefix -> train_custom_model (the shared pipeline:
    parity gate, register, promotion gate) -> status ready | failed with reasons -> lifecycle events

The run owns the model's item by its training id (finscore.products.custom.store): a redelivered or
superseded invocation finds the item moved on and changes nothing. Whatever goes wrong is recorded
as the run's reasons rather than raised, so that Lambda does not retry a run to the same end.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Any, Mapping

from pydantic import Field

from finscore import resources
from finscore.dynamo import ConditionFailed
from finscore.events import MODEL_PROMOTED, MODEL_REGISTERED, MODEL_REJECTED, publish_event
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.observability import logger
from finscore.products.custom.definition import CustomDefinition, model_key
from finscore.products.custom.store import CustomModels
from finscore.records import RowReject
from finscore.settings import load_settings
from training.custom import CustomTableError, train_custom_model
from training.data import write_rejects_report
from training.pipeline import TrainingDataError
from training.retrain import RetrainSettings

# How many rejected rows the model's item lists; the run's report in the data bucket has them all.
LISTED_REJECTS = 50


class CustomRunSettings(RetrainSettings):
    custom_models_table: Annotated[str, Field(alias=resources.CUSTOM_MODELS_TABLE.env_var, min_length=3)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_custom(event: Mapping[str, Any]) -> dict[str, Any]:
    """Train the custom model EVENT names for its run; the run's summary."""
    settings = load_settings(CustomRunSettings)
    name, training_id = str(event.get("custom_model")), str(event.get("training_id"))
    trigger = str(event.get("trigger") or "admin")
    models = CustomModels(settings.custom_models_table)
    item = models.get(name)
    if item is None or item.get("training_id") != training_id or not models.record(
            name, training_id, "training", started_at=_now()):
        logger.info("Custom model run superseded or already taken", extra={"custom_model": name, "training_id": training_id})
        return {"custom_model": name, "training_id": training_id, "skipped": True}
    summary: dict[str, Any] = {"custom_model": name, "product": model_key(name), "training_id": training_id,
                               "trigger": trigger}
    try:
        definition = CustomDefinition.model_validate(item["definition"])
        run = train_custom_model(
            definition, data_bucket=settings.data_bucket, store=ModelStore(settings.models_bucket),
            registry=ModelRegistry(settings.registry_table), tolerance=settings.tolerance,
            seed=int(event.get("seed", 7)),
            actor=f"promotion gate (custom model {trigger} run {training_id})")
    except CustomTableError as exc:
        return _failed(models, summary, [{"issue": reason} for reason in exc.reasons])
    except TrainingDataError as exc:
        return _failed(models, summary, [{"issue": str(exc)}])
    except Exception as exc:  # noqa: BLE001 - recorded on the model, never retried to the same end
        logger.exception("Custom model training failed", extra=summary)
        return _failed(models, summary, [{"issue": f"training failed: {type(exc).__name__}: {exc}"}])
    result, manifest = run.result, run.result.manifest
    summary.update(
        version=manifest.version, registered=result.registered, promoted=result.promoted, reason=result.decision,
        primary_metric=manifest.primary_metric, metrics=_headline(manifest.metrics), rows=manifest.training_data.rows,
        data=manifest.training_data.reference, timings={step: round(seconds, 3) for step, seconds in result.timings.items()},
        finished_at=_now())
    rejects = run.rejects
    summary["rejected_rows"] = len(rejects)
    summary["rejects_report"] = write_rejects_report(settings.data_bucket, model_key(name), training_id, rejects, summary)
    if result.registered:
        publish_event(MODEL_REGISTERED, summary)
    publish_event(MODEL_PROMOTED if result.promoted else MODEL_REJECTED, summary)
    serving = ModelRegistry(settings.registry_table).champion_version(model_key(name))
    reasons = [] if result.registered else [{"issue": result.decision}]
    status = "ready" if serving is not None and result.registered else "failed"
    models.record(name, training_id, status, last_run=summary, rejected_rows=len(rejects),
                  reasons=reasons + [_reason(reject) for reject in rejects[:LISTED_REJECTS]])
    return {**summary, "status": status}


def _failed(models: CustomModels, summary: dict[str, Any], reasons: list[dict[str, Any]]) -> dict[str, Any]:
    summary = {**summary, "registered": False, "promoted": False, "reason": "; ".join(r["issue"] for r in reasons),
               "finished_at": _now()}
    models.record(summary["custom_model"], summary["training_id"], "failed", reasons=reasons, last_run=summary)
    publish_event(MODEL_REJECTED, summary)
    return {**summary, "status": "failed"}


def _reason(reject: RowReject) -> dict[str, Any]:
    return {"issue": reject.reason, "row": reject.row, "file": reject.source}


def _headline(metrics: Mapping[str, Any]) -> dict[str, Any]:
    # The chosen model's plain numbers; intervals, the baseline and the comparison stay in the manifest.
    return {name: value for name, value in metrics.items() if isinstance(value, (int, float)) and not isinstance(value, bool)}


def retrain_custom(name: str, trigger: str) -> dict[str, Any]:
    """A new run of custom model NAME from its stored definition (its schedule, drift): recorded as a
    PUT records one, then run here."""
    settings = load_settings(CustomRunSettings)
    models = CustomModels(settings.custom_models_table)
    item = models.get(name)
    if item is None or item.get("status") == "retired":
        return {"custom_model": name, "skipped": True, "reason": "no such custom model, or retired"}
    training_id = str(uuid.uuid4())
    try:
        models.register(name, item["definition"], training_id, f"{trigger} retrain")
    except ConditionFailed:
        return {"custom_model": name, "skipped": True, "reason": "a run is training now"}
    return run_custom({"custom_model": name, "training_id": training_id, "trigger": trigger})


def retrain_every_custom_model(trigger: str) -> list[dict[str, Any]]:
    """A run of every custom model that serves, each on its own: one that fails is listed."""
    settings = load_settings(CustomRunSettings)
    results = []
    for item in CustomModels(settings.custom_models_table).all():
        if item.get("status") == "retired":
            continue
        try:
            results.append(retrain_custom(item["name"], trigger))
        except Exception as exc:  # noqa: BLE001 - one model's failure must not stop the others
            logger.exception("Custom model retraining failed", extra={"custom_model": item["name"]})
            results.append({"custom_model": item["name"], "error": f"{type(exc).__name__}: {exc}"})
    return results
