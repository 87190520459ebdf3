"""Intervention delivery: DynamoDB stream records of the interventions table; new interventions are sent once.

SMS and app push go through SNS, email through SES. A record that fails (DynamoDB unreachable) is
reported as a partial batch failure and retried; the claim in finscore.products.risk.delivery makes the retry
send nothing that was already sent.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.observability import logger, metrics, tracer
from finscore.products.risk import delivery

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def deliver_record(record: DynamoDBRecord) -> None:
    result = delivery.deliver_stream_record(record.raw_event)
    if result is not None and result.outcome != "skipped":
        metrics.add_metric(name=f"Interventions_{result.outcome}", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=deliver_record, processor=processor, context=context)
