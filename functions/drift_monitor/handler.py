"""Daily drift check of every champion (a scheduled event; its content is not used)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.drift.monitor import run_monitor
from finscore.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    summaries = run_monitor()
    logger.info("Drift check finished", extra={"products": summaries})
    return {"products": summaries}
