"""Risk transaction files created under ingest/risk/transactions/ of the data bucket.

Files arrive as S3 events in any shape finscore.notifications reads: SQS messages of S3 notifications
(the deployed path), S3's own event, EventBridge's Object Created. Each file is validated row by row,
good rows stored, the affected customers' features recomputed and rescored, and a rejects report and
summary written back to the data bucket. In an SQS batch a message that fails is reported as a batch
item failure and retried alone, and one that is no S3 event is logged and dropped; a file already
ingested (same ETag) is skipped.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.notifications import process_s3_event
from finscore.observability import logger, metrics, tracer
from finscore.products.risk import ingest


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_s3_event(event, ingest.ingest_created, context)
