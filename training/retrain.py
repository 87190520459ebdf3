"""One retraining run: data from the bucket (or synthetic when allowed), the pipeline with its promotion
gate, a report of rejected rows, and the lifecycle events.

    training/<product>/ files -> row-level validation -> train_product (parity gate, register,
    promotion gate) -> ModelRegistered, then ModelPromoted or ModelRejected

Called by functions/model_retrain (schedules, the admin route, DriftDetected) and by `python -m
training` users alike; configuration (hyperparameters, rows, seed, tolerance) travels in the request.
An event that names no product (a plain EventBridge scheduled event) retrains every product with a
trainer, each on its own: one that fails is logged and listed, and the others still run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Mapping

from pydantic import Field

from finscore.events import DRIFT_DETECTED, MODEL_PROMOTED, MODEL_REGISTERED, MODEL_REJECTED, publish_event
from finscore.observability import logger
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.products.custom.definition import MODEL_KEY_PREFIX
from finscore.settings import ModelServingSettings, load_settings
from training.data import load_training_data, row_rejects, write_rejects_report
from training.pipeline import DEFAULT_TOLERANCE, load_product, train_product, trainable_products

ALLOW_SYNTHETIC_ENV = "ALLOW_SYNTHETIC_TRAINING"
SCHEDULED_EVENT = "Scheduled Event"
# What an event without a product may set for every product's run; hyperparameters are per trainer.
SHARED_OPTIONS = ("rows", "seed", "tolerance")


class RetrainSettings(ModelServingSettings):
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
    # Synthetic data is generated only when this allows it and no training files exist. Off unless
    # set: a deployment must never train, let alone promote, a model on made-up data by omission.
    allow_synthetic: Annotated[bool, Field(alias=ALLOW_SYNTHETIC_ENV)] = False
    tolerance: Annotated[float, Field(alias="PROMOTION_TOLERANCE", ge=0, le=1)] = DEFAULT_TOLERANCE


@dataclass(frozen=True)
class RetrainRequest:
    product: str
    retrain_id: str
    config: Mapping[str, Any]
    rows: int | None = None
    seed: int = 7
    tolerance: float | None = None
    trigger: str = "manual"

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], trigger: str) -> "RetrainRequest":
        product = payload.get("product")
        if product not in trainable_products():
            raise ValueError(f"product: {product!r} has no trainer; known: {', '.join(trainable_products())}")
        return cls(
            product=product,
            retrain_id=str(payload.get("retrain_id") or uuid.uuid4()),
            config=dict(payload.get("config") or {}),
            rows=int(payload["rows"]) if payload.get("rows") is not None else None,
            seed=int(payload.get("seed", 7)),
            tolerance=float(payload["tolerance"]) if payload.get("tolerance") is not None else None,
            trigger=trigger,
        )


def retrain(request: RetrainRequest) -> dict[str, Any]:
    """Run REQUEST to its end; returns the summary that the rejects report and the events carry."""
    settings = load_settings(RetrainSettings)
    data_bucket = settings.data_bucket
    store = ModelStore(settings.models_bucket)
    registry = ModelRegistry(settings.registry_table)
    tolerance = request.tolerance if request.tolerance is not None else settings.tolerance
    product = load_product(request.product)
    data = load_training_data(data_bucket, request.product, getattr(product, "assemble", None))
    if data is None and not settings.allow_synthetic:
        return rejected_without_data(request)
    result = train_product(
        product, store=store, registry=registry, seed=request.seed, tolerance=tolerance,
        actor=f"promotion gate ({request.trigger} retrain {request.retrain_id})",
        progress=False, config=request.config,
        rows=request.rows if data is None else None,
        data=data.records if data is not None else None,
        reference=f"{data.reference}" if data is not None else None,
    )
    manifest = result.manifest
    summary: dict[str, Any] = {
        "retrain_id": request.retrain_id,
        "product": request.product,
        "version": manifest.version,
        "trigger": request.trigger,
        "data": manifest.training_data.reference,
        "rows": manifest.training_data.rows,
        "metrics": manifest.metrics,
        "primary_metric": manifest.primary_metric,
        "registered": result.registered,
        "promoted": result.promoted,
        "reason": result.decision,
        "champion_version": result.gate.champion_version if result.gate else None,
        "champion_value": result.gate.champion_value if result.gate else None,
        "candidate_value": result.gate.candidate_value if result.gate else None,
        # The comparison behind the decision: rows both versions were scored on, basis, interval.
        "gate": result.gate.record() if result.gate else None,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if data is not None:
        rejects = row_rejects(data, result.rejects)
        summary["rejected_rows"] = len(rejects)
        summary["rejects_report"] = write_rejects_report(data_bucket, request.product, request.retrain_id,
                                                         rejects, summary)
    if result.registered:
        publish_event(MODEL_REGISTERED, summary)
    publish_event(MODEL_PROMOTED if result.promoted else MODEL_REJECTED, summary)
    return summary


def rejected_without_data(request: RetrainRequest) -> dict[str, Any]:
    """A run with nothing to train on: nothing is trained, and ModelRejected says why (the alert
    topic hears it), rather than a failure Lambda would retry to the same end."""
    summary: dict[str, Any] = {
        "retrain_id": request.retrain_id,
        "product": request.product,
        "version": None,
        "trigger": request.trigger,
        "data": None,
        "registered": False,
        "promoted": False,
        "reason": f"no training data: no files under training/{request.product}/ in the data bucket, and "
                  f"synthetic data is off ({ALLOW_SYNTHETIC_ENV} false; cdk.json allowSyntheticTraining)",
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    logger.warning("Nothing to train on", extra={"product": request.product, "trigger": request.trigger})
    publish_event(MODEL_REJECTED, summary)
    return summary


def retrain_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """What model_retrain does with its event.

    - DriftDetected (EventBridge): the drifted product, when the event asks for retraining;
    - a payload naming a custom model and its run (PUT /v1/custom-models/{name}): that run
      (training.custom.run); {"custom_models": "all"} (their schedule): a new run of every custom model;
    - a payload naming a product (a per-product schedule rule's input, the admin route): that product;
      a failure raises, so that Lambda's retries and failure destination take the event;
    - anything naming no product, such as a plain EventBridge "Scheduled Event": every product with a
      trainer, each its own run; {"trigger", "results": [summary or {"product", "error"}], "failed"}.
    """
    if event.get("detail-type") == DRIFT_DETECTED:
        detail = event.get("detail") or {}
        if not detail.get("retrain"):
            logger.info("Drift detected; retraining on drift is off", extra={"product": detail.get("product")})
            return {"skipped": True, "product": detail.get("product")}
        drifted = str(detail.get("product"))
        if drifted.startswith(MODEL_KEY_PREFIX):
            from training.custom.run import retrain_custom

            return retrain_custom(drifted.removeprefix(MODEL_KEY_PREFIX), trigger="drift")
        return retrain(RetrainRequest.from_payload({"product": drifted}, trigger="drift"))
    if event.get("custom_model") is not None:
        from training.custom.run import run_custom

        return run_custom(event)
    if event.get("custom_models") == "all":
        from training.custom.run import retrain_every_custom_model

        trigger = event.get("trigger") or "schedule"
        return {"trigger": trigger, "results": retrain_every_custom_model(trigger)}
    trigger = event.get("trigger") or "schedule"
    if event.get("product") is not None:
        return retrain(RetrainRequest.from_payload(event, trigger=trigger))
    shared = {} if event.get("detail-type") == SCHEDULED_EVENT else {
        option: event[option] for option in SHARED_OPTIONS if event.get(option) is not None}
    results, failed = [], []
    for product in trainable_products():
        try:
            results.append(retrain(RetrainRequest.from_payload({**shared, "product": product}, trigger=trigger)))
        except Exception as exc:  # noqa: BLE001 - one product's failure must not stop the others
            logger.exception("Retraining failed", extra={"product": product, "trigger": trigger})
            results.append({"product": product, "error": f"{type(exc).__name__}: {exc}"})
            failed.append(product)
    return {"trigger": trigger, "results": results, "failed": failed}
