"""A product's API, deployed once per product: the routes its spec's Router declares."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.observability import logger, metrics, tracer
from finscore.products.api import resolve
from finscore.products.snapshot import register_hooks

# SnapStart: the champion is loaded before the snapshot and re-checked after each restore.
register_hooks()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return resolve(event, context)
