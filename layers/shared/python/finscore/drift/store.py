"""S3 and CloudWatch access for drift: captured samples, drift reports and the MaxPSI metric."""

from __future__ import annotations

import json
from typing import Any, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from finscore import resources
from finscore.aws import client
from finscore.errors import ServiceUnavailable

REPORT_PREFIX = "drift/"
METRIC_NAMESPACE = "FinScore"
MAX_PSI_METRIC = "MaxPSI"


def put_object(bucket: str, key: str, body: bytes, content_type: str = "application/x-ndjson") -> None:
    try:
        client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot write s3://{bucket}/{key}: {exc}") from exc


def capture_keys(bucket: str, product: str, after: str | None = None) -> Iterator[str]:
    """Keys of PRODUCT's captured samples in key order (dates sort), strictly after AFTER when given."""
    prefix = f"{resources.CAPTURE_PREFIX}{product}/"
    arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if after:
        arguments["StartAfter"] = after
    try:
        for page in client("s3").get_paginator("list_objects_v2").paginate(**arguments):
            for item in page.get("Contents", []):
                yield item["Key"]
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot list s3://{bucket}/{prefix}: {exc}") from exc


def read_records(bucket: str, key: str) -> list[dict[str, Any]]:
    """The JSON Lines records of one capture object; unparseable lines are skipped (a torn write)."""
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot read s3://{bucket}/{key}: {exc}") from exc
    records = []
    for line in body.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def report_key(product: str, day: str) -> str:
    return f"{REPORT_PREFIX}{product}/{day}.json"


def write_report(bucket: str, product: str, day: str, report: dict[str, Any]) -> str:
    key = report_key(product, day)
    put_object(bucket, key, json.dumps(report, indent=2).encode(), content_type="application/json")
    return key


def latest_report(bucket: str, product: str) -> dict[str, Any] | None:
    """The newest drift/<product>/<date>.json (dates sort as keys), or None before the first run."""
    prefix = f"{REPORT_PREFIX}{product}/"
    latest = None
    try:
        for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith(".json") and (latest is None or item["Key"] > latest):
                    latest = item["Key"]
        if latest is None:
            return None
        return json.loads(client("s3").get_object(Bucket=bucket, Key=latest)["Body"].read())
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot read drift reports under s3://{bucket}/{prefix}: {exc}") from exc


def put_max_psi(product: str, value: float) -> None:
    try:
        client("cloudwatch").put_metric_data(
            Namespace=METRIC_NAMESPACE,
            MetricData=[{"MetricName": MAX_PSI_METRIC, "Dimensions": [{"Name": "product", "Value": product}],
                         "Value": float(value), "Unit": "None"}],
        )
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot put the {MAX_PSI_METRIC} metric: {exc}") from exc
