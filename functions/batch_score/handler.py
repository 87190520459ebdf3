"""Batch scoring: SQS messages of S3 ObjectCreated notifications under incoming/<product>/, and the
Step Functions tasks (plan, score_chunk, join) of files large enough to fan out.

A message that fails is reported as a partial batch failure and retried alone; a file already
scored (its _manifest.json holds the same ETag) is skipped.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.batch import pipeline
from finscore.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def score_message(record: SQSRecord) -> None:
    pipeline.process_notification(record.body)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "action" in event:
        return pipeline.run_step(event)
    return process_partial_response(event=event, record_handler=score_message, processor=processor, context=context)
