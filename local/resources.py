"""Creates the resources of the CDK app in the embedded AWS, under their local names.

Buckets, tables (with their indexes, streams and TTL), SNS topics, SQS queues with their dead-letter
queues and the S3 -> SQS notifications that feed them, and the verified SES sender identity.
"""

from __future__ import annotations

import json
from pathlib import Path

from botocore.exceptions import ClientError

from finscore import resources
from finscore.aws import client
from finscore.products import all_queues, all_tables, all_topics

ROOT = Path(__file__).resolve().parents[1]
# Local redelivery of a failed queue message after seconds, not the deployed queue's minutes.
LOCAL_VISIBILITY_TIMEOUT_S = 30


def cdk_context(key: str, default=None):
    """A tunable from cdk.json's context, the value the CDK app deploys with."""
    return json.loads((ROOT / "cdk.json").read_text())["context"].get(key, default)


def create_resources(sender_email: str | None = None) -> dict[str, str]:
    """Create (idempotently) every bucket, table, topic and queue; returns {ENV_VAR: local name}.

    Topics are named by ARN and queues by URL, which is what their environment variables carry.
    """
    names: dict[str, str] = {}
    _create_buckets(names)
    _create_tables(names)
    _create_topics(names)
    _create_queues(names)
    verify_sender(sender_email or cdk_context("senderEmail", "alerts@finscore.example"))
    return names


def _create_buckets(names: dict[str, str]) -> None:
    s3 = client("s3")
    for bucket in resources.BUCKETS:
        name = resources.local_name(bucket.logical_id)
        try:
            s3.create_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        if bucket.versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        names[bucket.env_var] = name


def _create_tables(names: dict[str, str]) -> None:
    dynamodb = client("dynamodb")
    for table in all_tables():
        name = resources.local_name(table.logical_id)
        keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
        attributes = {key.name: key.type for key in keys}
        for _, partition, sort in table.global_indexes:
            attributes[partition.name] = partition.type
            if sort:
                attributes[sort.name] = sort.type
        request = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": keys[0].name, "KeyType": "HASH"}]
            + ([{"AttributeName": keys[1].name, "KeyType": "RANGE"}] if len(keys) > 1 else []),
            "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in attributes.items()],
        }
        if table.global_indexes:
            request["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index_name,
                    "KeySchema": [{"AttributeName": partition.name, "KeyType": "HASH"}]
                    + ([{"AttributeName": sort.name, "KeyType": "RANGE"}] if sort else []),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index_name, partition, sort in table.global_indexes
            ]
        if table.stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
        try:
            dynamodb.create_table(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        if table.ttl_attribute:
            ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") != "ENABLED":
                dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
                )
        names[table.env_var] = name


def _create_topics(names: dict[str, str]) -> None:
    sns = client("sns")
    for topic in all_topics():
        names[topic.env_var] = sns.create_topic(Name=resources.local_name(topic.logical_id))["TopicArn"]


def _queue_arn(url: str) -> str:
    return client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _create_queues(names: dict[str, str]) -> None:
    sqs = client("sqs")
    notifications = []
    for queue in all_queues():
        dead_letter_url = sqs.create_queue(QueueName=resources.local_name(queue.dead_letter_logical_id))["QueueUrl"]
        redrive = {
            "deadLetterTargetArn": _queue_arn(dead_letter_url),
            "maxReceiveCount": str(cdk_context("queueMaxReceiveCount", 3)),
        }
        url = sqs.create_queue(
            QueueName=resources.local_name(queue.logical_id),
            Attributes={"VisibilityTimeout": str(LOCAL_VISIBILITY_TIMEOUT_S), "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        names[queue.env_var] = url
        notifications.append(
            {
                "Id": queue.logical_id,
                "QueueArn": _queue_arn(url),
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": queue.s3_prefix}]}},
            }
        )
    if notifications:
        # Every queue is fed by the data bucket (QueueSpec); one configuration holds them all, as a
        # bucket has exactly one notification configuration.
        client("s3").put_bucket_notification_configuration(
            Bucket=names[resources.DATA_BUCKET.env_var],
            NotificationConfiguration={"QueueConfigurations": notifications},
        )


def verify_sender(email: str) -> None:
    """SES refuses to send from an unverified identity, in moto as in AWS."""
    client("ses").verify_email_identity(EmailAddress=email)
