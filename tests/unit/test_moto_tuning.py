"""The embedded AWS answers the same bytes with moto's repeated lookups remembered as without, and
SDK calls in its own process reach it without a socket."""

from __future__ import annotations

import base64
import binascii
import os
import random

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.embedded_aws import EmbeddedAws, free_port
from local.moto_tuning import (
    assemble_uploads_once,
    forget_repeated_lookups,
    forget_query_partitions,
    forget_upload_assembly,
    query_one_partition,
    remember_repeated_lookups,
)

ITEM = {
    "pk": {"S": "customer-1"}, "sk": {"N": "7"}, "blob": {"B": b"\x00\x01binary"},
    "names": {"SS": ["a", "b"]}, "amounts": {"NS": ["1", "2.5"]}, "blobs": {"BS": [b"x", b"y"]},
    "features": {"M": {"ratio": {"N": "0.25"}, "nested": {"M": {"flag": {"BOOL": True}}},
                       "history": {"L": [{"N": "1"}, {"S": "two"}, {"NULL": True}]}}},
    "missing": {"NULL": True}, "active": {"BOOL": False},
}


@pytest.fixture(scope="module")
def embedded():
    saved = os.environ.get("AWS_ENDPOINT_URL")
    server = EmbeddedAws(free_port()).start()
    yield server
    server.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None) if saved is None else os.environ.update(AWS_ENDPOINT_URL=saved)


def sdk(embedded, service):
    return boto3.session.Session().client(service, endpoint_url=embedded.endpoint_url, region_name="us-east-1",
                                          aws_access_key_id="local", aws_secret_access_key="local",
                                          config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def resources(embedded):
    dynamodb, s3, sqs = sdk(embedded, "dynamodb"), sdk(embedded, "s3"), sdk(embedded, "sqs")
    dynamodb.create_table(
        TableName="items", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    for number in range(5):
        dynamodb.put_item(TableName="items", Item={**ITEM, "sk": {"N": str(number)}})
    s3.create_bucket(Bucket="files")
    s3.put_object(Bucket="files", Key="incoming/a b.csv", Body=b"id,amount\n1,2\n", Metadata={"source": "test"})
    queue = sqs.create_queue(QueueName="work")["QueueUrl"]
    stream = dynamodb.describe_table(TableName="items")["Table"]["LatestStreamArn"]
    return {"queue": queue, "stream": stream}


def read_calls(embedded, resources):
    """Read-only calls over the shapes FinScore uses (and an error of each protocol): name -> answer."""
    dynamodb, s3, sqs = sdk(embedded, "dynamodb"), sdk(embedded, "s3"), sdk(embedded, "sqs")
    streams = sdk(embedded, "dynamodbstreams")
    shard = streams.describe_stream(StreamArn=resources["stream"])["StreamDescription"]["Shards"][0]["ShardId"]
    key = {"pk": ITEM["pk"], "sk": {"N": "3"}}
    return {
        "GetItem": lambda: dynamodb.get_item(TableName="items", Key=key),
        "Query": lambda: dynamodb.query(TableName="items", KeyConditionExpression="pk = :pk", Limit=2,
                                        ExpressionAttributeValues={":pk": ITEM["pk"]}),
        "Scan": lambda: dynamodb.scan(TableName="items"),
        "BatchGetItem": lambda: dynamodb.batch_get_item(RequestItems={"items": {"Keys": [key]}}),
        "DescribeTable": lambda: dynamodb.describe_table(TableName="items"),
        "GetItem of no table": lambda: dynamodb.get_item(TableName="absent", Key=key),
        "DescribeStream": lambda: streams.describe_stream(StreamArn=resources["stream"]),
        "GetRecords": lambda: streams.get_records(ShardIterator=streams.get_shard_iterator(
            StreamArn=resources["stream"], ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]),
        "ListObjectsV2": lambda: s3.list_objects_v2(Bucket="files", Prefix="incoming/"),
        "HeadObject": lambda: s3.head_object(Bucket="files", Key="incoming/a b.csv"),
        "GetObject": lambda: s3.get_object(Bucket="files", Key="incoming/a b.csv"),
        "GetObject of no key": lambda: s3.get_object(Bucket="files", Key="absent"),
        "GetQueueAttributes": lambda: sqs.get_queue_attributes(QueueUrl=resources["queue"], AttributeNames=["All"]),
    }


def answers(calls) -> dict[str, bytes]:
    """Each call's status, streamed body and parsed answer."""
    bodies = {}
    for name, call in calls.items():
        try:
            response = call()
            body = response["Body"].read() if "Body" in response else None
            # Request ids and shard iterators are minted anew for every call.
            shown = {field: value for field, value in response.items()
                     if field not in ("ResponseMetadata", "Body", "NextShardIterator")}
            bodies[name] = (response["ResponseMetadata"]["HTTPStatusCode"], body, shown)
        except ClientError as exc:
            bodies[name] = (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"])
    return bodies


def test_remembered_lookups_answer_as_moto_does(embedded, resources):
    calls = read_calls(embedded, resources)
    forget_repeated_lookups()
    try:
        moto_own = answers(calls)
    finally:
        remember_repeated_lookups()
    remembered = answers(calls)
    assert remembered == moto_own
    assert remembered["GetItem"][2]["Item"]["features"]["M"]["history"]["L"][2] == {"NULL": True}
    assert remembered["GetItem"][2]["Item"]["blob"]["B"] == b"\x00\x01binary"
    assert remembered["GetObject"][1] == b"id,amount\n1,2\n"
    assert remembered["GetItem of no table"][0] == 400


def test_calls_in_this_process_do_not_open_sockets(embedded, resources, monkeypatch):
    """The process that runs the embedded AWS hands its SDK calls straight to moto's application."""
    import urllib3.connectionpool

    def no_socket(*args, **kwargs):
        raise AssertionError("an SDK call in the embedded AWS's process went over HTTP")

    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", no_socket)
    s3 = sdk(embedded, "s3")
    s3.put_object(Bucket="files", Key="in-process.txt", Body=b"x" * 100_000)
    assert s3.get_object(Bucket="files", Key="in-process.txt")["Body"].read() == b"x" * 100_000
    assert sdk(embedded, "dynamodb").get_item(TableName="items", Key={"pk": ITEM["pk"], "sk": {"N": "0"}})["Item"]


def test_a_stopped_embedded_aws_is_unreachable_in_its_own_process():
    server = EmbeddedAws(free_port()).start()
    saved = os.environ.get("AWS_ENDPOINT_URL")
    client = sdk(server, "s3")
    client.create_bucket(Bucket="gone")
    server.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None) if saved is None else os.environ.update(AWS_ENDPOINT_URL=saved)
    with pytest.raises(Exception) as stopped:
        client.head_bucket(Bucket="gone")
    assert "Could not connect" in str(stopped.value)


def completed_uploads(embedded) -> dict[str, object]:
    """Multipart uploads completed with each kind of checksum, and two refused: what the SDK sees."""
    s3 = sdk(embedded, "s3")
    s3.create_bucket(Bucket="uploads")
    bytes_of = random.Random(7).randbytes
    parts = [bytes_of(5 * 1024 * 1024 + 17), bytes_of(5 * 1024 * 1024), b"the last part may be small"]
    seen: dict[str, object] = {}
    for name, options in {"default": {}, "crc32 per part": {"ChecksumAlgorithm": "CRC32"},
                          "crc32 whole": {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}}.items():
        key = f"object-{name}"
        upload = s3.create_multipart_upload(Bucket="uploads", Key=key, **options)["UploadId"]
        tags = [{"PartNumber": number, "ETag": s3.upload_part(Bucket="uploads", Key=key, UploadId=upload,
                                                               PartNumber=number, Body=body,
                                                               **({"ChecksumAlgorithm": "CRC32"} if options else {}))["ETag"]}
                for number, body in enumerate(parts, 1)]
        if options:
            for tag, body in zip(tags, parts):
                tag["ChecksumCRC32"] = base64.b64encode(binascii.crc32(body).to_bytes(4, "big")).decode()
        done = s3.complete_multipart_upload(Bucket="uploads", Key=key, UploadId=upload, MultipartUpload={"Parts": tags})
        head = s3.head_object(Bucket="uploads", Key=key, ChecksumMode="ENABLED")
        seen[name] = ({field: value for field, value in done.items() if field != "ResponseMetadata"},
                      {field: value for field, value in head.items() if field.startswith(("Checksum", "ETag", "Content"))},
                      s3.get_object(Bucket="uploads", Key=key)["Body"].read() == b"".join(parts))
        s3.delete_object(Bucket="uploads", Key=key)
    for name, numbers in {"a small middle part": (1, 2), "an unknown part": (1, 9)}.items():
        upload = s3.create_multipart_upload(Bucket="uploads", Key="refused")["UploadId"]
        small = [b"small", b"x" * 10]
        tags = [{"PartNumber": number, "ETag": s3.upload_part(Bucket="uploads", Key="refused", UploadId=upload,
                                                               PartNumber=number, Body=body)["ETag"]}
                for number, body in zip(numbers, small)]
        try:
            s3.complete_multipart_upload(Bucket="uploads", Key="refused", UploadId=upload,
                                         MultipartUpload={"Parts": [tags[0], {**tags[1], "PartNumber": numbers[1]}]})
            seen[name] = "completed"
        except ClientError as exc:
            seen[name] = exc.response["Error"]["Code"]
    return seen


def test_uploads_assembled_once_are_the_objects_moto_assembles(embedded):
    forget_upload_assembly()
    try:
        moto_own = completed_uploads(embedded)
    finally:
        assemble_uploads_once()
    once = completed_uploads(embedded)
    assert once == moto_own
    assert all(once[name][2] for name in ("default", "crc32 per part", "crc32 whole"))
    assert once["crc32 whole"][1]["ChecksumCRC32"]
    assert once["a small middle part"] == "EntityTooSmall"


@pytest.fixture(scope="module")
def weeks(embedded):
    """Three partitions of weekly items (one with an index attribute), and a table keyed by hash alone."""
    dynamodb = sdk(embedded, "dynamodb")
    dynamodb.create_table(
        TableName="weeks", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pincode", "KeyType": "HASH"}, {"AttributeName": "week", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pincode", "week", "city")],
        GlobalSecondaryIndexes=[{"IndexName": "by_city", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"},
                                               {"AttributeName": "week", "KeyType": "RANGE"}]}])
    dynamodb.create_table(TableName="latest", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pincode", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pincode", "AttributeType": "S"}])
    for pincode in ("110001", "400001", "560001"):
        dynamodb.put_item(TableName="latest", Item={"pincode": {"S": pincode}, "week": {"S": "2026-11-23"}})
        for week in range(12, 0, -1):
            dynamodb.put_item(TableName="weeks", Item={
                "pincode": {"S": pincode}, "week": {"S": f"2026-{week:02d}-02"}, "count": {"N": str(week * 3 % 7)},
                **({"city": {"S": "Delhi"}} if pincode == "110001" and week % 2 else {})})
    return dynamodb


def queries(dynamodb) -> dict[str, object]:
    """Queries of every shape FinScore sends, their answers without the request metadata."""
    pincode = {":p": {"S": "400001"}}
    shapes = {
        "latest weeks": dict(TableName="weeks", KeyConditionExpression="pincode = :p", Limit=5,
                             ScanIndexForward=False, ExpressionAttributeValues=pincode),
        "all weeks": dict(TableName="weeks", KeyConditionExpression="pincode = :p", ExpressionAttributeValues=pincode),
        "a range": dict(TableName="weeks", KeyConditionExpression="pincode = :p AND week BETWEEN :a AND :b",
                        ExpressionAttributeValues={**pincode, ":a": {"S": "2026-03"}, ":b": {"S": "2026-07"}}),
        "a prefix and a filter": dict(TableName="weeks", KeyConditionExpression="pincode = :p AND begins_with(week, :m)",
                                      FilterExpression="#c > :n", ExpressionAttributeNames={"#c": "count"},
                                      ExpressionAttributeValues={**pincode, ":m": {"S": "2026-1"}, ":n": {"N": "1"}}),
        "a page after a key": dict(TableName="weeks", KeyConditionExpression="pincode = :p", Limit=4,
                                   ExclusiveStartKey={"pincode": {"S": "400001"}, "week": {"S": "2026-04-02"}},
                                   ExpressionAttributeValues=pincode),
        "a count": dict(TableName="weeks", KeyConditionExpression="pincode = :p", Select="COUNT",
                        ExpressionAttributeValues=pincode),
        "no such partition": dict(TableName="weeks", KeyConditionExpression="pincode = :p",
                                  ExpressionAttributeValues={":p": {"S": "999999"}}),
        "an index": dict(TableName="weeks", IndexName="by_city", KeyConditionExpression="city = :c",
                         ExpressionAttributeValues={":c": {"S": "Delhi"}}),
        "an index, latest first": dict(TableName="weeks", IndexName="by_city", Limit=3, ScanIndexForward=False,
                                       KeyConditionExpression="city = :c AND week > :w",
                                       ExpressionAttributeValues={":c": {"S": "Delhi"}, ":w": {"S": "2026-02"}}),
        "an index of no such value": dict(TableName="weeks", IndexName="by_city", KeyConditionExpression="city = :c",
                                          ExpressionAttributeValues={":c": {"S": "Pune"}}),
        "a hash key alone": dict(TableName="latest", KeyConditionExpression="pincode = :p", ExpressionAttributeValues=pincode),
    }
    answers = {}
    for name, request in shapes.items():
        answer = dynamodb.query(**request)
        answer.pop("ResponseMetadata")
        answers[name] = answer
    answers["a scan"] = {key: value for key, value in dynamodb.scan(TableName="weeks").items()
                         if key != "ResponseMetadata"}
    return answers


def test_a_query_of_one_partition_answers_as_moto_does(weeks):
    forget_query_partitions()
    try:
        moto_own = queries(weeks)
    finally:
        query_one_partition()
    one_partition = queries(weeks)
    assert one_partition == moto_own
    assert [item["week"]["S"] for item in one_partition["latest weeks"]["Items"]] == [
        "2026-12-02", "2026-11-02", "2026-10-02", "2026-09-02", "2026-08-02"]
    assert one_partition["a page after a key"]["Count"] == 4
    assert one_partition["an index"]["Count"] == 6 and one_partition["a scan"]["Count"] == 36
