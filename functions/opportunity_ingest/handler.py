"""Opportunity review files created under ingest/opportunity/reviews/ of the data bucket.

Files arrive as S3 events in any shape finscore.notifications reads (SQS messages of S3
notifications, S3's own event, EventBridge's Object Created). Each row (location, text) is validated,
scored with VADER and stored once per text, its location's sentiment sums updated, and a report of the
file (counts, each location's new aggregates and every rejected row) written beside the prefix; a file
already ingested (same ETag) is skipped.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.notifications import process_s3_event
from finscore.observability import logger, metrics, tracer
from finscore.products.opportunity import ingest


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_s3_event(event, ingest.ingest_created, context)
