"""S3 and CloudWatch access for drift: captured samples, drift reports and the MaxPSI metric."""

from __future__ import annotations

import json
from typing import Any, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from finscore import resources
from finscore.aws import client
from finscore.errors import ServiceUnavailable
from finscore.s3 import Bucket

REPORT_PREFIX = "drift/"
MAX_PSI_METRIC = "MaxPSI"
CAPTURE_TYPE = "application/x-ndjson"


def put_capture(bucket: str, key: str, body: bytes) -> None:
    Bucket(bucket).write(key, body, CAPTURE_TYPE)


def capture_keys(bucket: str, product: str, after: str | None = None) -> Iterator[str]:
    """Keys of PRODUCT's captured samples in key order (dates sort), strictly after AFTER when given."""
    return Bucket(bucket).keys(f"{resources.CAPTURE_PREFIX}{product}/", after)


def read_records(bucket: str, key: str) -> list[dict[str, Any]]:
    """The JSON Lines records of one capture object; unparseable lines are skipped (a torn write)."""
    body, _ = Bucket(bucket).read(key)
    records = []
    for line in body.decode("utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def report_key(product: str, day: str) -> str:
    return f"{REPORT_PREFIX}{product}/{day}.json"


def write_report(bucket: str, product: str, day: str, report: dict[str, Any]) -> str:
    key = report_key(product, day)
    Bucket(bucket).write_json(key, report)
    return key


def latest_report(bucket: str, product: str) -> dict[str, Any] | None:
    """The newest drift/<product>/<date>.json (dates sort as keys), or None before the first run."""
    objects = Bucket(bucket)
    reports = [key for key in objects.keys(f"{REPORT_PREFIX}{product}/") if key.endswith(".json")]
    return objects.read_json(max(reports)) if reports else None


def put_max_psi(product: str, value: float) -> None:
    try:
        client("cloudwatch").put_metric_data(
            Namespace=resources.METRICS_NAMESPACE,
            MetricData=[{"MetricName": MAX_PSI_METRIC, "Dimensions": [{"Name": "product", "Value": product}],
                         "Value": float(value), "Unit": "None"}],
        )
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot put the {MAX_PSI_METRIC} metric: {exc}") from exc
