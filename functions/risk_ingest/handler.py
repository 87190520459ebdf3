"""Risk transaction files: SQS messages of S3 ObjectCreated notifications under ingest/risk/transactions/.

Each file is validated row by row, good rows stored, the affected customers' features recomputed and
rescored, and a rejects report and summary written back to the data bucket. A message that fails is
reported as a partial batch failure and retried alone; a file already ingested (same ETag) is skipped.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.observability import logger, metrics, tracer
from finscore.products.risk import ingest

processor = BatchProcessor(event_type=EventType.SQS)


def ingest_message(record: SQSRecord) -> None:
    ingest.ingest_notification(record.body)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=ingest_message, processor=processor, context=context)
