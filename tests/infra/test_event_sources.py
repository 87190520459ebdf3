"""Streams, TTL, the topic, the queue and the event source mappings: derived from resources.py."""

from __future__ import annotations

import json

import pytest

from finscore.products import all_functions, all_queues, all_tables, all_topics
from finscore.resources import DATA_BUCKET

FUNCTIONS, QUEUES, TABLES, TOPICS = all_functions(), all_queues(), all_tables(), all_topics()

STREAM_CONSUMERS = [(spec, table) for spec in FUNCTIONS for table in spec.streams]


@pytest.mark.parametrize("spec", TABLES, ids=[spec.logical_id for spec in TABLES])
def test_tables_have_the_spec_stream_and_ttl(synthesized, spec):
    properties = synthesized.resource(spec.logical_id)["Properties"]
    if spec.stream:
        assert properties["StreamSpecification"] == {"StreamViewType": spec.stream}
    else:
        assert "StreamSpecification" not in properties
    if spec.ttl_attribute:
        assert properties["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in properties


@pytest.mark.parametrize("spec", TOPICS, ids=[spec.logical_id for spec in TOPICS])
def test_topics_are_encrypted(synthesized, spec):
    topic = synthesized.resource(spec.logical_id)
    assert topic["Type"] == "AWS::SNS::Topic"
    assert "alias/aws/sns" in json.dumps(topic["Properties"]["KmsMasterKeyId"])


@pytest.mark.parametrize("spec", QUEUES, ids=[spec.logical_id for spec in QUEUES])
def test_queue_has_its_dead_letter_queue_and_outlasts_its_consumer(synthesized, spec, context):
    properties = synthesized.resource(spec.logical_id)["Properties"]
    assert properties["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [spec.dead_letter_logical_id, "Arn"]},
        "maxReceiveCount": context["queueMaxReceiveCount"],
    }
    assert properties["SqsManagedSseEnabled"] is True
    consumer_timeout = max(f.timeout_s for f in FUNCTIONS if f.queue == spec)
    assert properties["VisibilityTimeout"] >= 6 * consumer_timeout
    assert synthesized.resource(spec.dead_letter_logical_id)["Properties"]["MessageRetentionPeriod"] == 14 * 86400


@pytest.mark.parametrize("spec", QUEUES, ids=[spec.logical_id for spec in QUEUES])
def test_data_bucket_notifies_the_queue_of_files_under_its_prefix_only(synthesized, spec):
    (notifications,) = synthesized.resources("Custom::S3BucketNotifications").values()
    properties = notifications["Properties"]
    assert properties["BucketName"] == {"Ref": DATA_BUCKET.logical_id}
    configurations = properties["NotificationConfiguration"]["QueueConfigurations"]
    assert len(configurations) == len(QUEUES)
    (configuration,) = [c for c in configurations if c["QueueArn"] == {"Fn::GetAtt": [spec.logical_id, "Arn"]}]
    assert configuration["Events"] == ["s3:ObjectCreated:*"]
    assert configuration["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": spec.s3_prefix}]


def _mappings(synthesized) -> list[dict]:
    return [m["Properties"] for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()]


@pytest.mark.parametrize(("spec", "table"), STREAM_CONSUMERS,
                         ids=[f"{spec.name}<-{table.logical_id}" for spec, table in STREAM_CONSUMERS])
def test_stream_mapping_bisects_retries_reports_items_and_keeps_failures(synthesized, spec, table, context):
    (mapping,) = [m for m in _mappings(synthesized) if m["EventSourceArn"] == {"Fn::GetAtt": [table.logical_id,
                                                                                             "StreamArn"]}
                  and m["FunctionName"] == {"Ref": spec.logical_id}]
    assert mapping["BatchSize"] == context["streamBatchSize"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == context["streamRetryAttempts"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert synthesized.resource(destination)["Type"] == "AWS::SQS::Queue"
    assert mapping["StartingPosition"] == ("LATEST" if spec.posts_to_connections else "TRIM_HORIZON")
    if spec.stream_events:
        (pattern,) = mapping["FilterCriteria"]["Filters"]
        assert json.loads(pattern["Pattern"]) == {"eventName": list(spec.stream_events)}
    else:
        assert "FilterCriteria" not in mapping


def test_queue_mappings_report_batch_item_failures(synthesized, context):
    for spec in (f for f in FUNCTIONS if f.queue):
        (mapping,) = [m for m in _mappings(synthesized)
                      if m["EventSourceArn"] == {"Fn::GetAtt": [spec.queue.logical_id, "Arn"]}]
        assert mapping["FunctionName"] == {"Ref": spec.logical_id}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == context["queueBatchSize"]
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": context["queueMaxConcurrency"]}


def test_every_event_source_mapping_is_declared_in_the_specs(synthesized):
    declared = len(STREAM_CONSUMERS) + sum(1 for f in FUNCTIONS if f.queue)
    assert len(_mappings(synthesized)) == declared
