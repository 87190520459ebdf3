"""Transactions in: validated row by row, stored, and the affected customers' features recomputed and rescored.

POST /v1/risk/transactions and files dropped under ingest/risk/transactions/ in the data bucket take
the same path. Every row ends up stored or rejected with its number and reason; storing is a keyed
put (customer, date, transaction id), so a replayed request or a redelivered file writes nothing twice.
A file is processed once per ETag: its summary records the ETag it covered.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Sequence

from finscore.data_bucket import DataBucket
from finscore.notifications import created_objects
from finscore.observability import logger
from finscore.resources import RISK_TRANSACTIONS_QUEUE
from finscore.risk.features import compute_features
from finscore.risk.interventions import InterventionContext, iso, utc_now
from finscore.risk.repository import CustomerStore, InterventionStore, TransactionStore
from finscore.risk.schema import RowReject, TransactionRecord, validate_rows
from finscore.risk.scoring import RiskContext, champion, cutoffs_in_use, score_record, store_score
from finscore.risk.settings import RiskIngestSettings
from finscore.settings import load_settings

REJECTS_PREFIX = "ingest/risk/rejects/"
SUMMARIES_PREFIX = "ingest/risk/summaries/"
CSV_SUFFIXES = (".csv",)
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass
class IngestResult:
    received: int
    stored: int = 0
    rejects: list[RowReject] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    model_version: str | None = None

    @property
    def customers_updated(self) -> int:
        return len(self.scores)


def parse_transactions_file(key: str, body: bytes) -> tuple[list[Mapping[str, Any]], list[int], list[RowReject]]:
    """Rows of a CSV or JSON Lines file with their numbers, and the rows that could not even be parsed.

    CSV rows are numbered from 1 after the header; JSON Lines rows by their line number.
    """
    name = key.lower()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [], [RowReject(0, "file: not UTF-8 text")]
    if name.endswith(CSV_SUFFIXES):
        return _parse_csv(text)
    if name.endswith(JSON_LINES_SUFFIXES):
        return _parse_json_lines(text)
    return [], [], [RowReject(0, "file: unsupported format; use .csv or .jsonl")]


def _parse_csv(text: str) -> tuple[list[Mapping[str, Any]], list[int], list[RowReject]]:
    rows, numbers, rejects = [], [], []
    reader = csv.DictReader(io.StringIO(text))
    for number, row in enumerate(reader, start=1):
        if None in row:
            rejects.append(RowReject(number, "row: more fields than the header has columns"))
            continue
        # A short row leaves None for the missing columns; dropping them reports each as required.
        rows.append({name.strip(): value for name, value in row.items() if value is not None})
        numbers.append(number)
    return rows, numbers, rejects


def _parse_json_lines(text: str) -> tuple[list[Mapping[str, Any]], list[int], list[RowReject]]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return [], [], [RowReject(0, f"file: not a JSON array ({exc.msg})")]
        return list(document), list(range(1, len(document) + 1)), []
    rows, numbers, rejects = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
            numbers.append(number)
        except json.JSONDecodeError as exc:
            rejects.append(RowReject(number, f"row: not valid JSON ({exc.msg})"))
    return rows, numbers, rejects


def ingest_transactions(ctx: RiskContext, rows: Sequence[Any], numbers: Sequence[int] | None = None,
                        parse_rejects: Sequence[RowReject] = ()) -> IngestResult:
    """Validate, store and apply ROWS; NUMBERS gives each row's number in the source (default 1..n)."""
    numbers = list(numbers) if numbers is not None else list(range(1, len(rows) + 1))
    result = IngestResult(received=len(rows) + len(parse_rejects), rejects=list(parse_rejects))
    records, rejects = validate_rows(TransactionRecord, rows)
    result.rejects += [RowReject(numbers[reject.row - 1], reject.reason) for reject in rejects]
    if not records:
        result.rejects.sort(key=lambda reject: reject.row)
        return result
    # Rows and their records keep their order, so the n-th record is the n-th row not rejected.
    rejected_rows = {reject.row for reject in rejects}
    record_numbers = [numbers[index] for index in range(len(rows)) if index + 1 not in rejected_rows]
    loaded = champion().get()
    customers = ctx.customers.get_many(list({record.customer_id for record in records}))
    accepted: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, record in zip(record_numbers, records, strict=True):
        transaction = record.model_dump(mode="json")
        if record.customer_id not in customers:
            result.rejects.append(RowReject(number, "customer_id: unknown customer"))
            continue
        key = f"{record.customer_id}#{TransactionStore.key_of(transaction)}"
        if key in accepted:
            result.rejects.append(RowReject(number, f"txn_id: duplicate of row {accepted[key][0]}"))
            continue
        accepted[key] = (number, transaction)
    result.stored = ctx.transactions.put_many(transaction for _, transaction in accepted.values())
    affected = sorted({transaction["customer_id"] for _, transaction in accepted.values()})
    result.scores = [update_customer(ctx, customers[customer_id], loaded) for customer_id in affected]
    result.model_version = loaded.version
    result.rejects.sort(key=lambda reject: reject.row)
    return result


def update_customer(ctx: RiskContext, customer: Mapping[str, Any], loaded) -> dict[str, Any]:
    """Recompute the customer's features over all their stored transactions, store them and rescore."""
    transactions = ctx.transactions.all_for(customer["customer_id"])
    features = compute_features(customer, transactions)
    now = utc_now()
    dates = [str(transaction["date"]) for transaction in transactions]
    ctx.customers.save_features(customer["customer_id"], features, as_of=max(dates) if dates else None,
                                transactions=len(transactions), updated_at=iso(now))
    result = score_record(loaded, cutoffs_in_use(loaded, ctx), features)
    intervention_id = store_score(ctx, customer, result, loaded.version, now)
    return {"customer_id": customer["customer_id"], "risk_score": float(result.risk_score),
            "risk_level": result.risk_level, "intervention_id": intervention_id}


def report_name(key: str, prefix: str) -> str:
    """The file's name relative to the ingest prefix, used to name its reports."""
    return key[len(prefix):] if key.startswith(prefix) else key


def ingest_object(ctx: RiskContext, bucket: DataBucket, key: str, prefix: str) -> dict[str, Any]:
    """Ingest one dropped file, once per ETag; writes its rejects report and summary, returns the summary."""
    name = report_name(key, prefix)
    summary_key, rejects_key = f"{SUMMARIES_PREFIX}{name}.json", f"{REJECTS_PREFIX}{name}.json"
    body, etag = bucket.read(key)
    previous = bucket.read_json(summary_key)
    if previous and previous.get("etag") == etag:
        return {**previous, "skipped": True}
    started = utc_now()
    rows, numbers, parse_rejects = parse_transactions_file(key, body)
    result = ingest_transactions(ctx, rows, numbers, parse_rejects)
    rejects = [{"row": reject.row, "reason": reject.reason} for reject in result.rejects]
    bucket.write_json(rejects_key, {"source": key, "etag": etag, "rejects": rejects})
    summary = {
        "source": key,
        "etag": etag,
        "rows": result.received,
        "stored": result.stored,
        "rejected": len(result.rejects),
        "customers_updated": result.customers_updated,
        "interventions_created": sum(1 for score in result.scores if score["intervention_id"]),
        "model_version": result.model_version,
        "rejects_report": rejects_key,
        "started_at": iso(started),
        "finished_at": iso(utc_now()),
    }
    bucket.write_json(summary_key, summary)
    return summary


@lru_cache(maxsize=1)
def ingest_context() -> tuple[RiskContext, DataBucket]:
    """The ingest function's stores, intervention policy and data bucket, from its settings."""
    settings = load_settings(RiskIngestSettings)
    customers = CustomerStore(settings.customers_table)
    ctx = RiskContext(
        customers=customers,
        transactions=TransactionStore(settings.transactions_table),
        interventions=InterventionContext(
            customers=customers,
            interventions=InterventionStore(settings.interventions_table, settings.customers_table),
            policy=settings,
        ),
    )
    return ctx, DataBucket(settings.data_bucket)


def ingest_notification(body: str) -> list[dict[str, Any]]:
    """One SQS message body: an S3 event notification; every created object under the prefix is ingested.

    Objects elsewhere are ignored.
    """
    ctx, bucket = ingest_context()
    prefix = RISK_TRANSACTIONS_QUEUE.s3_prefix
    summaries = []
    for source_bucket, key in created_objects(body):
        if source_bucket != bucket.bucket or not key.startswith(prefix) or key.endswith("/"):
            logger.warning("Ignoring an object outside the risk ingest prefix", extra={"bucket": source_bucket, "key": key})
            continue
        summary = ingest_object(ctx, bucket, key, prefix)
        logger.info("Transactions file ingested", extra={k: v for k, v in summary.items() if k != "source"} | {"key": key})
        summaries.append(summary)
    return summaries
