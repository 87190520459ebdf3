"""Retraining: a schedule rule's input {"product"}, the admin route's payload, a DriftDetected event, or
an event naming no product (a plain EventBridge scheduled event), which retrains every product with a
trainer, each on its own (training.retrain.retrain_event says how each is read)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.observability import logger
from training.retrain import retrain_event


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    summary = retrain_event(event)
    logger.info("Retraining finished", extra=summary)
    return summary
