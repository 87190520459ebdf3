"""Users' training data from s3://<data bucket>/training/<product>/: CSV or JSON Lines files.

Every row is accounted for: it becomes a training record or a reject naming its file, row number
and reason (rows that cannot be parsed here; rows the product's own validation refuses later, mapped
back through `origins`). Risk reads three tables, told apart by file name: customers*, transactions*
and labels* (customer_id, delinquent). Every other product reads one table of records per row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.errors import ServiceUnavailable
from finscore.risk.ingest import parse_transactions_file

TRAINING_PREFIX = "training/"
# Reports go beside the training files, never under training/<product>/, so they are never read as data.
REPORTS_PREFIX = "training-reports/"
RISK_TABLES = ("customers", "transactions", "labels")


@dataclass(frozen=True)
class DataReject:
    file: str
    row: int
    reason: str


@dataclass
class TrainingData:
    records: list[Any]
    # (file, row) of each record, for mapping the product's rejects back to their source rows.
    origins: list[tuple[str, int]]
    files: list[str]
    rejects: list[DataReject] = field(default_factory=list)
    as_of: str | None = None

    @property
    def reference(self) -> str:
        return ",".join(self.files)


def training_keys(bucket: str, product: str) -> list[str]:
    prefix = f"{TRAINING_PREFIX}{product}/"
    try:
        pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []) if not item["Key"].endswith("/"))
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot list s3://{bucket}/{prefix}: {exc}") from exc


def _read(bucket: str, key: str) -> bytes:
    try:
        return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot read s3://{bucket}/{key}: {exc}") from exc


def parse_table(key: str, body: bytes) -> tuple[list[Mapping[str, Any]], list[int], list[DataReject]]:
    rows, numbers, rejects = parse_transactions_file(key, body)
    return rows, numbers, [DataReject(key, r.row, r.reason) for r in rejects]


def load_training_data(bucket: str, product: str) -> TrainingData | None:
    """The product's files as training records, or None when there are none."""
    keys = training_keys(bucket, product)
    if not keys:
        return None
    tables = {key: parse_table(key, _read(bucket, key)) for key in keys}
    if product == "risk":
        return _risk_data(tables)
    data = TrainingData(records=[], origins=[], files=[f"s3://{bucket}/{key}" for key in keys])
    for key, (rows, numbers, rejects) in tables.items():
        data.records += rows
        data.origins += [(key, number) for number in numbers]
        data.rejects += rejects
    return data


def _table_of(key: str) -> str | None:
    name = key.rsplit("/", 1)[-1].lower()
    return next((table for table in RISK_TABLES if name.startswith(table)), None)


def _risk_data(tables: Mapping[str, tuple[list, list, list]]) -> TrainingData:
    from training.risk.trainer import LABEL, training_records

    customers: list[Mapping[str, Any]] = []
    customer_origins: list[tuple[str, int]] = []
    transactions: list[tuple[Mapping[str, Any], tuple[str, int]]] = []
    labels: dict[Any, Any] = {}
    data = TrainingData(records=[], origins=[], files=list(tables))
    for key, (rows, numbers, rejects) in tables.items():
        data.rejects += rejects
        table = _table_of(key)
        if table is None:
            data.rejects += [DataReject(key, number, f"file: name must start with one of {', '.join(RISK_TABLES)}")
                             for number in numbers]
        elif table == "customers":
            customers += rows
            customer_origins += [(key, number) for number in numbers]
        elif table == "transactions":
            transactions += [(row, (key, number)) for row, number in zip(rows, numbers)]
        else:
            for row, number in zip(rows, numbers):
                if not isinstance(row, Mapping) or not row.get("customer_id"):
                    data.rejects.append(DataReject(key, number, "customer_id: required"))
                    continue
                label = row.get(LABEL)
                # CSV gives strings; the trainer's validation wants 0 or 1 and names anything else.
                labels[row["customer_id"]] = int(label) if isinstance(label, str) and label.strip() in ("0", "1") else label
    records = training_records(customers, [row for row, _ in transactions], labels)
    origin_of_txn = {}
    for row, origin in transactions:
        origin_of_txn.setdefault(row.get("customer_id") if isinstance(row, Mapping) else None, origin)
    data.records = records
    data.origins = customer_origins + [origin_of_txn.get(r.get("customer_id"), ("transactions", 0))
                                       for r in records[len(customers):]]
    return data


def row_rejects(data: TrainingData, product_rejects: Sequence[Any]) -> list[DataReject]:
    """Parse rejects plus the product's validation rejects (record index -> file and row)."""
    mapped = [DataReject(*data.origins[r.row], r.reason) for r in product_rejects if 0 <= r.row < len(data.origins)]
    return sorted(data.rejects + mapped, key=lambda r: (r.file, r.row))


def write_rejects_report(bucket: str, product: str, run_id: str, rejects: Sequence[DataReject],
                         summary: Mapping[str, Any]) -> str:
    """training-reports/<product>/<run id>.json: the run's summary and every rejected row."""
    key = f"{REPORTS_PREFIX}{product}/{run_id}.json"
    body = json.dumps({**summary, "rejects": [vars(r) for r in rejects]}, indent=2, default=str).encode()
    try:
        client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot write s3://{bucket}/{key}: {exc}") from exc
    return key
