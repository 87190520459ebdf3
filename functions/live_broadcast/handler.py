"""DynamoDB stream batches of risk customers and interventions pushed to every connected dashboard.

Failed records are reported one by one (ReportBatchItemFailures), so a retry resumes from them.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.products.risk.live.service import Broadcaster
from finscore.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    broadcaster = Broadcaster.from_settings()

    def push_record(record: DynamoDBRecord) -> None:
        change = record.dynamodb
        message = broadcaster.push_change(record.event_name.name, change.keys, change.new_image, change.old_image)
        if message is not None:
            logger.info("Pushed a live update", extra={"type": message["type"]})

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return process_partial_response(event=event, record_handler=push_record, processor=processor, context=context)
