"""Retraining: a scheduled rule's input {"product"}, the admin route's payload, or a DriftDetected event."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.events import DRIFT_DETECTED
from finscore.observability import logger
from training.retrain import RetrainRequest, retrain


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("detail-type") == DRIFT_DETECTED:
        detail = event.get("detail") or {}
        if not detail.get("retrain"):
            logger.info("Drift detected; retraining on drift is off", extra={"product": detail.get("product")})
            return {"skipped": True, "product": detail.get("product")}
        request = RetrainRequest.from_payload({"product": detail.get("product")}, trigger="drift")
    else:
        request = RetrainRequest.from_payload(event, trigger=event.get("trigger") or "schedule")
    summary = retrain(request)
    logger.info("Retraining finished", extra=summary)
    return summary
