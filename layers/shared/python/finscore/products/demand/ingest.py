"""Sales in: validated one by one, stored once per sale, and the pincodes' weekly series updated.

POST /v1/demand/sales (a JSON list or a CSV body) and files dropped under the sales ingest prefix
(CSV, JSON Lines, Parquet or Excel .xlsx; each with a report of its rejected rows, once per ETag)
take this path. A sale is stored under its key (pincode, date, record id) only if that key is new, and
only a newly stored sale is added to its pincode's week, so a replayed request or a redelivered file
counts nothing twice.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

from pydantic import ValidationError

from finscore.errors import FieldIssue, ValidationFailed
from finscore.ingest_files import ingest_file
from finscore.products.demand.catalog import week_start
from finscore.products.demand.records import SaleRecord
from finscore.products.demand.repository import SalesStore, SeriesStore, series_attribute
from finscore.products.demand.settings import DemandIngestSettings, DemandSalesSettings
from finscore.products.demand.spec import INGEST_REPORTS_PREFIX, SALES_QUEUE
from finscore.observability import logger
from finscore.s3 import Bucket
from finscore.records import describe_errors
from finscore.settings import load_settings


@dataclass(frozen=True)
class InvalidSale:
    index: int
    fields: list[str]
    reason: str


@dataclass
class SalesResult:
    received: int
    inserted: int = 0
    duplicates: int = 0
    invalid: list[InvalidSale] = field(default_factory=list)
    weeks_updated: int = 0
    stored: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SalesStores:
    sales: SalesStore
    series: SeriesStore


@lru_cache(maxsize=1)
def sales_stores() -> SalesStores:
    settings = load_settings(DemandSalesSettings)
    return SalesStores(SalesStore(settings.sales_table), SeriesStore(settings.series_table))


def csv_rows(text: str) -> list[dict[str, Any]]:
    """A CSV body's rows as records (empty cells absent); the first line is the header."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise ValidationFailed("The CSV body has no header", [FieldIssue("body", "no header line")])
    return [{key.strip(): value for key, value in row.items() if key and value not in (None, "")} for row in reader]


def ingest_sales(rows: Sequence[Any], stores: SalesStores, indexes: Sequence[int] | None = None) -> SalesResult:
    """Validate, store and count ROWS; INDEXES gives each row's index as the sender sees it (default 0..n-1)."""
    indexes = list(indexes) if indexes is not None else list(range(len(rows)))
    result = SalesResult(received=len(rows))
    valid: dict[str, tuple[int, SaleRecord]] = {}
    for index, row in zip(indexes, rows):
        if not isinstance(row, dict):
            result.invalid.append(InvalidSale(index, ["record"], f"expected an object of fields, got {type(row).__name__}"))
            continue
        try:
            sale = SaleRecord.model_validate(row)
        except ValidationError as exc:
            fields = list(dict.fromkeys(".".join(str(part) for part in error["loc"]) or "record"
                                        for error in exc.errors()))
            result.invalid.append(InvalidSale(index, fields, describe_errors(exc)))
            continue
        key = f"{sale.pincode}#{sale.key()}"
        if key in valid:
            result.duplicates += 1
            continue
        valid[key] = (index, sale)
    weeks: dict[tuple[str, str], dict[str, Any]] = {}
    for index, sale in valid.values():
        item = sale.item()
        if not stores.sales.insert(item):
            result.duplicates += 1
            continue
        result.inserted += 1
        result.stored.append(item)
        week = weeks.setdefault((sale.pincode, week_start(sale.date).isoformat()),
                                {"city": sale.city, "counts": {}, "ages": 0.0, "incomes": 0.0})
        attribute = series_attribute(sale.product, sale.channel)
        week["counts"][attribute] = week["counts"].get(attribute, 0) + 1
        week["ages"] += sale.customer_age
        week["incomes"] += sale.customer_income
    for (pincode, monday), week in sorted(weeks.items()):
        stores.series.add(pincode, monday, week["city"], week["counts"], week["ages"], week["incomes"])
    result.weeks_updated = len(weeks)
    result.invalid.sort(key=lambda invalid: invalid.index)
    return result


def ingest_object(stores: SalesStores, bucket: Bucket, key: str) -> dict[str, Any]:
    """Ingest one dropped file of sales, once per ETag (finscore.ingest_files); returns its report."""

    def take(records: list[dict[str, Any]], numbers: list[int]) -> tuple[SalesResult, dict[str, Any]]:
        result = ingest_sales(records, stores, numbers)
        return result, {"weeks_updated": result.weeks_updated}

    return ingest_file(bucket, key, SALES_QUEUE.s3_prefix, INGEST_REPORTS_PREFIX, take)


@lru_cache(maxsize=1)
def ingest_context() -> tuple[SalesStores, Bucket]:
    return sales_stores(), Bucket(load_settings(DemandIngestSettings).data_bucket)


def ingest_created(source_bucket: str, key: str) -> dict[str, Any] | None:
    """One created object of an S3 event (finscore.notifications): ingested when it is a file under the
    sales prefix of the data bucket; returns its report, or None for objects elsewhere."""
    stores, bucket = ingest_context()
    if source_bucket != bucket.name or not key.startswith(SALES_QUEUE.s3_prefix) or key.endswith("/"):
        logger.warning("Ignoring an object outside the demand sales prefix", extra={"bucket": source_bucket, "key": key})
        return None
    report = ingest_object(stores, bucket, key)
    logger.info("Sales file ingested", extra={"key": key, "inserted": report["inserted_count"],
                                              "invalid": len(report["invalid_records"])})
    return report
