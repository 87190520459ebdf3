"""Batch scoring on the running local stack: a file put under incoming/risk/ is scored by the queue's
function, with its manifest and rejects; the same file put again adds no output."""

from __future__ import annotations

import csv
import io
import json
import time

import boto3

from finscore import resources
from finscore.products.risk.features import FEATURE_NAMES, FEATURES

KEY = "incoming/risk/e2e portfolio.csv"
PREFIX = "scored/risk/e2e portfolio.csv/"


def _s3(stack):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def _file() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["customer_id", *FEATURE_NAMES])
    for index in range(1, 6):  # within every feature's domain: counts and flags whole, the rest 0.1-0.5
        writer.writerow([f"E{index}", *[index % 2 if spec.type in ("int", "bool") else round(0.1 * index, 2)
                                        for spec in FEATURES]])
    writer.writerow(["E6", "not-a-number", *[0.5] * (len(FEATURE_NAMES) - 1)])  # row 6
    writer.writerow(["E7", 0.5])                                                 # row 7
    return out.getvalue().encode()


def _wait_for_manifest(s3, bucket: str, seconds: float = 90) -> dict | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return json.loads(s3.get_object(Bucket=bucket, Key=PREFIX + "_manifest.json")["Body"].read())
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    return None


def _queue_drained(stack, seconds: float = 60) -> bool:
    """True once the batch queue holds no message, visible or in flight (moto enqueues at put time)."""
    sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    url = sqs.get_queue_url(QueueName=resources.local_name(resources.BATCH_INCOMING_QUEUE.logical_id))["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if all(attributes[name] == "0" for name in names):
            return True
        time.sleep(0.5)
    return False


def test_a_file_put_under_incoming_is_scored_once(stack):
    s3 = _s3(stack)
    bucket = resources.local_name(resources.DATA_BUCKET.logical_id)
    s3.put_object(Bucket=bucket, Key=KEY, Body=_file())

    manifest = _wait_for_manifest(s3, bucket)

    assert manifest is not None, "the dropped file was not scored"
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (7, 5, 2)
    assert manifest["model_version"]
    rejects = list(csv.DictReader(io.StringIO(s3.get_object(Bucket=bucket, Key=PREFIX + "rejects.csv")["Body"]
                                              .read().decode())))
    assert [int(reject["row"]) for reject in rejects] == [6, 7]
    scored = list(csv.DictReader(io.StringIO(s3.get_object(Bucket=bucket, Key=PREFIX + "scored.csv")["Body"]
                                             .read().decode())))
    assert [row["customer_id"] for row in scored] == ["E1", "E2", "E3", "E4", "E5"]
    assert {row["model_version"] for row in scored} == {manifest["model_version"]}

    # Given the same bytes put again (same ETag), when the queue delivers it, then nothing changes.
    before = {item["Key"]: item["LastModified"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=PREFIX)["Contents"]}
    s3.put_object(Bucket=bucket, Key=KEY, Body=_file())
    assert _queue_drained(stack), "the second notification was not consumed"
    after = {item["Key"]: item["LastModified"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=PREFIX)["Contents"]}
    assert after == before
