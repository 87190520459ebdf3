"""A dropped file from notification to scored output, once per object key and ETag.

incoming/<product>/<name> is scored into scored/<product>/<name>/: scored.<csv|jsonl|parquet> (the
input columns joined with the outputs and model_version), rejects.csv (row, reason) and, written
last, _manifest.json. A file whose _manifest.json already records its ETag is skipped, so a
redelivered event or the same file put again adds nothing; a crash before the manifest leaves the
file to be scored again over the same keys. Files past BATCH_FANOUT_BYTES go through `fanout`.
"""

from __future__ import annotations

import hashlib
import re
import time
from functools import lru_cache
from typing import Any

from finscore.batch import fanout
from finscore.batch.files import Source, already_scored, product_and_name, utc_iso, write_manifest
from finscore.tabular import (
    CONTENT_TYPES,
    CSV,
    OUTPUT_NAMES,
    RowReject,
    UnsupportedFile,
    file_format,
    read_rows,
    rejects_csv,
)
from finscore.batch.scoring import batch_product, batch_settings, file_scorer, score_csv, score_rows
from finscore.batch.storage import BatchStateMachine
from finscore.s3 import Bucket
from finscore.errors import ValidationFailed
from finscore.observability import logger

# Step Functions execution names: at most 80 characters of letters, digits, '-' and '_'.
EXECUTION_NAME_LENGTH = 80


def execution_name(source: Source) -> str:
    """A name fixed by key and ETag: a redelivered event cannot start a second execution."""
    digest = hashlib.sha256(f"{source.key}\n{source.etag}".encode()).hexdigest()[:24]
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", f"{source.product}-{source.name}")
    return f"{readable[:EXECUTION_NAME_LENGTH - len(digest) - 1]}-{digest}"


def write_failure(bucket: Bucket, source: Source, reason: str, started: float, *,
                  retryable: bool = False) -> dict[str, Any]:
    """A file that cannot be scored: no rows, the reason in its rejects (row 0) and manifest. A file
    that cannot be read at all is done with; a RETRYABLE failure is scored again when put again."""
    rejects_key = source.rejects_key
    bucket.write(rejects_key, rejects_csv([RowReject(0, reason)]), "text/csv")
    manifest = {
        "source": {"bucket": source.bucket, "key": source.key}, "etag": source.etag, "product": source.product,
        "rows_in": 0, "scored": 0, "rejected": 0, "model_version": None, "error": reason,
        "outputs": {"rejects": rejects_key}, "finished_at": utc_iso(),
        "timings": {"total_s": round(time.perf_counter() - started, 3)},
        **({"retryable": True} if retryable else {}),
    }
    bucket.write_json(source.manifest_key, manifest)
    return manifest


# Step Functions' error causes can be long (a stack trace); a manifest keeps their start.
MAX_CAUSE_CHARS = 2000


def record_failure(bucket: Bucket, state: dict[str, Any]) -> dict[str, str]:
    """The state machine's catch: STATE is the failed step's input (the source, or the plan's job with
    it) and the error under "failure". The file gets a manifest saying it failed and why, rather than
    none at all; putting it again scores it again. Returns the reason, for the execution's failure."""
    document = state.get("source") or (state.get("job") or {}).get("source")
    if not document:
        raise ValueError("record_failure: the state holds no source document")
    source = Source.from_document(document)
    failure = state.get("failure") or {}
    cause = str(failure.get("Cause") or "")[:MAX_CAUSE_CHARS]
    reason = f"scoring in chunks failed: {failure.get('Error') or 'unknown error'}" + (f": {cause}" if cause else "")
    write_failure(bucket, source, reason, time.perf_counter(), retryable=True)
    logger.error("Batch file failed", extra={"key": source.key, "reason": reason})
    return {"reason": reason}


def score_file(bucket: Bucket, source: Source) -> dict[str, Any]:
    """The single path: read, score and write one file in this process; returns its manifest."""
    started, wall = time.perf_counter(), time.time()
    fmt = file_format(source.key)
    scorer = file_scorer(source.product)
    output_key, rejects_key = source.output_prefix + OUTPUT_NAMES[fmt], source.rejects_key
    body, _ = bucket.read(source.key, etag=source.etag)
    read_at = time.perf_counter()
    if fmt == CSV:
        # The output is uploaded in parts while later blocks are still being scored.
        result, _ = score_csv(scorer, body,
                              write=lambda parts: bucket.write_parts(output_key, parts, CONTENT_TYPES[fmt]))
    else:
        result = score_rows(scorer, read_rows(fmt, body))
        bucket.write(output_key, result.body, CONTENT_TYPES[fmt])
    del body
    scored_at = time.perf_counter()
    bucket.write(rejects_key, rejects_csv(result.rejects), "text/csv")
    finished = time.perf_counter()
    return write_manifest(
        bucket, source, fmt, rows_in=result.rows_in, scored=result.scored, rejected=len(result.rejects),
        model_version=scorer.version, output_key=output_key, chunks=1, started_at=wall, finished_at=time.time(),
        timings={
            "read_s": round(read_at - started, 3), "score_and_write_s": round(scored_at - read_at, 3),
            "manifest_s": round(finished - scored_at, 3),
            "total_s": round(finished - started, 3),
            "rows_per_s": round(result.rows_in / max(finished - started, 1e-9)),
        },
    )


def process_object(bucket: Bucket, key: str) -> dict[str, Any]:
    """Score one dropped object once per ETag: in this process, or fanned out when it is large."""
    started = time.perf_counter()
    product, name = product_and_name(key)
    found = bucket.head(key)
    if found is None:
        # Deleted (or replaced under another key) since the event was sent: nothing to score, and
        # retrying the event would only fail again until it reached the dead-letter queue.
        logger.warning("The file of the event no longer exists; nothing to score", extra={"key": key})
        return {"source": {"bucket": bucket.name, "key": key}, "skipped": True, "error": "no such object"}
    size, etag = found
    source = Source(bucket.name, key, product, name, etag, size)
    previous = already_scored(bucket, source)
    if previous is not None:
        return {**previous, "skipped": True}
    settings = batch_settings()
    try:
        file_format(key)
        batch_product(product)
    except (UnsupportedFile, ValidationFailed) as exc:
        return write_failure(bucket, source, str(exc), started)
    if size <= settings.fanout_bytes:
        try:
            return score_file(bucket, source)
        except UnsupportedFile as exc:
            return write_failure(bucket, source, str(exc), started)
    if settings.state_machine_arn:
        started_now = BatchStateMachine(settings.state_machine_arn).start(
            execution_name(source), {"source": source.document()})
        return {"source": {"bucket": source.bucket, "key": key}, "etag": etag, "fanned_out": True,
                "execution_started": started_now}
    # The local run has no Step Functions: the same plan, chunks and join run here, one after another.
    try:
        plan = fanout.plan(bucket, source, settings.chunk_size)
    except UnsupportedFile as exc:
        return write_failure(bucket, source, str(exc), started)
    for chunk in plan["chunks"]:
        fanout.score_chunk(bucket, plan["job"], chunk)
    return fanout.join(bucket, plan["job"], len(plan["chunks"]))


@lru_cache(maxsize=1)
def data_bucket() -> Bucket:
    return Bucket(batch_settings().data_bucket)


def process_created(source_bucket: str, key: str) -> dict[str, Any] | None:
    """One created object of an S3 event (finscore.notifications): scored when it is a file under
    incoming/<product>/ of the data bucket; returns its manifest, or None for objects elsewhere."""
    bucket = data_bucket()
    try:
        product_and_name(key)
    except ValueError:
        logger.warning("Ignoring an object outside incoming/<product>/", extra={"bucket": source_bucket, "key": key})
        return None
    if source_bucket != bucket.name:
        logger.warning("Ignoring an object of another bucket", extra={"bucket": source_bucket, "key": key})
        return None
    manifest = process_object(bucket, key)
    logger.info("Batch file processed", extra={"key": key, **{k: manifest.get(k) for k in (
        "rows_in", "scored", "rejected", "model_version", "skipped", "fanned_out", "error")}})
    return manifest


def run_step(event: dict[str, Any]) -> dict[str, Any]:
    """A Step Functions task: {"action": "plan" | "score_chunk" | "join" | "record_failure", ...}."""
    action = event.get("action")
    bucket = data_bucket()
    if action == "plan":
        source = Source.from_document(event["source"])
        previous = already_scored(bucket, source)
        if previous is not None:
            # Scored since the execution started (the same file put twice): nothing left to do.
            return {"job": fanout.job_document(source, previous.get("model_version"), None), "chunks": []}
        return fanout.plan(bucket, source, batch_settings().chunk_size)
    if action == "score_chunk":
        return fanout.score_chunk(bucket, event["job"], event["chunk"])
    if action == "join":
        return fanout.summary(fanout.join(bucket, event["job"], int(event["chunk_count"])))
    if action == "record_failure":
        return record_failure(bucket, event.get("state") or {})
    raise ValueError(f"unknown batch action {action!r}; expected plan, score_chunk, join or record_failure")
