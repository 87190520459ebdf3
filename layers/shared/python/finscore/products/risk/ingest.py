"""Transactions in: validated row by row, stored, and the affected customers' features recomputed and rescored.

POST /v1/risk/transactions and files dropped under ingest/risk/transactions/ in the data bucket take
the same path. Every row ends up stored or rejected with its number and reason; storing is a keyed
put (customer, date, transaction id), so a replayed request or a redelivered file writes nothing twice.
A file is processed once per ETag: its summary records the ETag it covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Sequence

from finscore.observability import logger
from finscore.records import RowReject, validate_rows
from finscore.products.risk.interventions import InterventionContext, iso, utc_now
from finscore.products.risk.repository import CounterStore, CustomerStore, InterventionStore, TransactionStore
from finscore.products.risk.records import TransactionRecord
from finscore.products.risk.scoring import RiskContext, RiskScorer, refresh_features, store_score
from finscore.products.risk.settings import RiskIngestSettings
from finscore.products.risk.spec import INGEST_REJECTS_PREFIX, INGEST_SUMMARIES_PREFIX, TRANSACTIONS_QUEUE
from finscore.s3 import Bucket
from finscore.settings import load_settings

REJECTS_PREFIX = INGEST_REJECTS_PREFIX
SUMMARIES_PREFIX = INGEST_SUMMARIES_PREFIX


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
    scorer = RiskScorer(ctx)
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
    result.scores = [update_customer(ctx, customers[customer_id], scorer) for customer_id in affected]
    result.model_version = scorer.version
    result.rejects.sort(key=lambda reject: reject.row)
    return result


def update_customer(ctx: RiskContext, customer: Mapping[str, Any], scorer: RiskScorer) -> dict[str, Any]:
    """Recompute the customer's features as of today over all their stored transactions, store them
    and rescore."""
    now = utc_now()
    features = refresh_features(ctx.customers, ctx.transactions, customer, now)
    [result] = scorer.score([features])
    intervention_id = store_score(ctx, customer, result, scorer.version, now)
    return {"customer_id": customer["customer_id"], "risk_score": float(result.risk_score),
            "risk_level": result.risk_level, "intervention_id": intervention_id}


def report_name(key: str, prefix: str) -> str:
    """The file's name relative to the ingest prefix, used to name its reports."""
    return key[len(prefix):] if key.startswith(prefix) else key


def ingest_object(ctx: RiskContext, bucket: Bucket, key: str, prefix: str) -> dict[str, Any]:
    """Ingest one dropped file, once per ETag; writes its rejects report and summary, returns the summary."""
    name = report_name(key, prefix)
    summary_key, rejects_key = f"{SUMMARIES_PREFIX}{name}.json", f"{REJECTS_PREFIX}{name}.json"
    body, etag = bucket.read(key)
    previous = bucket.read_json(summary_key)
    if previous and previous.get("etag") == etag:
        return {**previous, "skipped": True}
    started = utc_now()
    # The tabular reader needs pyarrow, which only the file-ingest function's image carries.
    from finscore.tabular import UnsupportedFile, read_file

    try:
        rows = read_file(key, body)
    except UnsupportedFile as exc:
        rows = None
        result = IngestResult(received=1, rejects=[RowReject(0, str(exc))])
    if rows is not None:
        result = ingest_transactions(ctx, rows.as_records(), rows.numbers.tolist(), rows.rejects)
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
def ingest_context() -> tuple[RiskContext, Bucket]:
    """The ingest function's stores, intervention policy and data bucket, from its settings."""
    settings = load_settings(RiskIngestSettings)
    counters = CounterStore(settings.counters_table)
    customers = CustomerStore(settings.customers_table, counters=counters)
    ctx = RiskContext(
        customers=customers,
        transactions=TransactionStore(settings.transactions_table),
        interventions=InterventionContext(
            customers=customers,
            interventions=InterventionStore(settings.interventions_table, settings.customers_table, counters),
            policy=settings,
        ),
    )
    return ctx, Bucket(settings.data_bucket)


def ingest_created(source_bucket: str, key: str) -> dict[str, Any] | None:
    """One created object of an S3 event (finscore.notifications): ingested when it is a file under the
    transactions prefix of the data bucket; returns its summary, or None for objects elsewhere."""
    ctx, bucket = ingest_context()
    prefix = TRANSACTIONS_QUEUE.s3_prefix
    if source_bucket != bucket.name or not key.startswith(prefix) or key.endswith("/"):
        logger.warning("Ignoring an object outside the risk ingest prefix", extra={"bucket": source_bucket, "key": key})
        return None
    summary = ingest_object(ctx, bucket, key, prefix)
    logger.info("Transactions file ingested", extra={k: v for k, v in summary.items() if k != "source"} | {"key": key})
    return summary
