"""Batch scoring: files created under incoming/<product>/ of the data bucket, and the Step Functions
tasks (plan, score_chunk, join) of files large enough to fan out.

Files arrive as S3 events in any shape finscore.notifications reads: SQS messages of S3 notifications
(the deployed path), S3's own event, EventBridge's Object Created. In an SQS batch a message that
fails is reported as a batch item failure and retried alone, and one that is no S3 event is logged and
dropped; a file already scored (its _manifest.json holds the same ETag) is skipped.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.batch import pipeline
from finscore.notifications import process_s3_event
from finscore.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "action" in event:
        return pipeline.run_step(event)
    return process_s3_event(event, pipeline.process_created, context)
