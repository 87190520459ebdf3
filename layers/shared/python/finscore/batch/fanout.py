"""Large files in chunks: plan line-aligned byte ranges (row groups for Parquet), score each chunk to a
part, join the parts and their manifests into the file's output, rejects and _manifest.json.

Step Functions runs plan -> Distributed Map of score_chunk -> join; the local run calls the same
three functions in one process. The plan pins the champion version, so every chunk scores with it.
A chunk numbers its rows from 1 and records how many lines (Parquet: rows) it held; the join adds
the lines of the chunks before it, so a row's number is the same as on the single path. Chunks and
the join write fixed keys, so any of them may be retried. Parts live under batch-parts/, which the
data bucket expires, so no function needs to delete anything.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Callable, Iterator

import numpy as np
import pyarrow.parquet as pq

from finscore.batch.files import PARTS_PREFIX, Source, already_scored, write_manifest
from finscore.tabular import (
    CONTENT_TYPES,
    CSV,
    OUTPUT_NAMES,
    PARQUET,
    RowReject,
    file_format,
    header_names,
    read_json_lines,
    read_parquet,
    rejects_csv,
)
from finscore.batch.scoring import champion, file_scorer, score_csv, score_rows
from finscore.s3 import Bucket, RangeFile

# Bytes fetched at a time while looking for the end of a line (a header, or a row at a boundary).
PROBE_BYTES = 64 * 1024
ReadAt = Callable[[int, int], bytes]


def next_line_start(read_at: ReadAt, position: int, size: int) -> int:
    """The first offset at or after POSITION where a line starts (SIZE when none does)."""
    if position <= 0:
        return 0
    cursor = position - 1  # a line break just before POSITION makes POSITION itself a line start
    while cursor < size:
        probe = read_at(cursor, min(cursor + PROBE_BYTES, size))
        found = probe.find(b"\n")
        if found >= 0:
            return cursor + found + 1
        cursor += len(probe)
    return size


def line_aligned_ranges(read_at: ReadAt, size: int, start: int, chunk_bytes: int) -> list[tuple[int, int]]:
    """[START, SIZE) cut into ranges of about CHUNK_BYTES that begin and end on line boundaries:
    a row that straddles a nominal boundary belongs wholly to the range it starts in."""
    boundaries = [start]
    nominal = start + chunk_bytes
    while nominal < size:
        boundary = next_line_start(read_at, nominal, size)
        if boundary >= size:
            break
        boundaries.append(boundary)
        nominal = boundary + chunk_bytes
    boundaries.append(size)
    return [(begin, end) for begin, end in zip(boundaries, boundaries[1:]) if end > begin]


def row_group_chunks(parquet: pq.ParquetFile, chunk_bytes: int) -> list[list[int]]:
    """Consecutive row groups gathered until a chunk holds about CHUNK_BYTES (at least one group each)."""
    chunks: list[list[int]] = []
    current: list[int] = []
    held = 0
    for index in range(parquet.metadata.num_row_groups):
        group_bytes = parquet.metadata.row_group(index).total_byte_size
        if current and held + group_bytes > chunk_bytes:
            chunks.append(current)
            current, held = [], 0
        current.append(index)
        held += group_bytes
    if current:
        chunks.append(current)
    return chunks


def job_document(source: Source, model_version: str | None, columns: list[str] | None, *,
                 started: float | None = None) -> dict[str, Any]:
    return {"source": source.document(), "model_version": model_version, "columns": columns,
            "started_at": started if started is not None else time.time()}


def plan(bucket: Bucket, source: Source, chunk_bytes: int) -> dict[str, Any]:
    """The job (source, pinned model version, CSV columns) and its chunks."""
    fmt = file_format(source.key)
    version = champion(source.product).get().version

    def read_at(start: int, end: int) -> bytes:
        return bucket.read(source.key, start, end, source.etag)[0]

    columns = None
    if fmt == PARQUET:
        parquet = pq.ParquetFile(RangeFile(bucket, source.key, source.size, source.etag))
        chunks = [{"index": index, "row_groups": groups}
                  for index, groups in enumerate(row_group_chunks(parquet, chunk_bytes))]
    else:
        start = 0
        if fmt == CSV:
            start = next_line_start(read_at, 1, source.size)
            columns = header_names(read_at(0, start))
        ranges = line_aligned_ranges(read_at, source.size, start, chunk_bytes)
        chunks = [{"index": index, "start": begin, "end": end} for index, (begin, end) in enumerate(ranges)]
    if not chunks:
        chunks = [{"index": 0, "start": source.size, "end": source.size}] if fmt != PARQUET \
            else [{"index": 0, "row_groups": []}]
    return {"job": job_document(source, version, columns), "chunks": chunks}


def part_key(source: Source, index: int, suffix: str) -> str:
    return f"{PARTS_PREFIX}{source.product}/{source.name}/{source.etag}/{index:05d}{suffix}"


def output_suffix(fmt: str) -> str:
    return os.path.splitext(OUTPUT_NAMES[fmt])[1]


def score_chunk(bucket: Bucket, job: dict[str, Any], chunk: dict[str, Any]) -> dict[str, Any]:
    """Score one chunk into its part, part rejects and part manifest; returns the part manifest."""
    started = time.perf_counter()
    source = Source.from_document(job["source"])
    fmt = file_format(source.key)
    scorer = file_scorer(source.product, job["model_version"])
    index = int(chunk["index"])
    if fmt == PARQUET:
        rows = read_parquet(RangeFile(bucket, source.key, source.size, source.etag), chunk["row_groups"])
        result, lines = score_rows(scorer, rows, header=index == 0), rows.lines
    else:
        body = bucket.read(source.key, int(chunk["start"]), int(chunk["end"]), source.etag)[0]
        if fmt == CSV:
            result, lines = score_csv(scorer, body, job["columns"], header=index == 0)
        else:
            rows = read_json_lines(body)
            result, lines = score_rows(scorer, rows, header=index == 0), rows.lines
    bucket.write(part_key(source, index, output_suffix(fmt)), result.body, CONTENT_TYPES[fmt])
    bucket.write_json(part_key(source, index, ".rejects.json"),
                      [[reject.row, reject.reason] for reject in result.rejects])
    manifest = {"index": index, "lines": lines, "rows_in": result.rows_in, "scored": result.scored,
                "rejected": len(result.rejects), "model_version": scorer.version,
                "seconds": round(time.perf_counter() - started, 3)}
    bucket.write_json(part_key(source, index, ".manifest.json"), manifest)
    return manifest


def _part_bodies(bucket: Bucket, source: Source, count: int, suffix: str) -> Iterator[bytes]:
    for index in range(count):
        yield bucket.read(part_key(source, index, suffix))[0]


def _joined_parquet(bucket: Bucket, source: Source, count: int) -> Iterator[bytes]:
    """The parts' tables as one Parquet file, spooled through a temporary file to bound memory."""
    with tempfile.TemporaryFile() as spool:
        writer = None
        for index in range(count):
            table = read_parquet(bucket.read(part_key(source, index, ".parquet"))[0]).table
            if writer is None:
                writer = pq.ParquetWriter(spool, table.schema)
            writer.write_table(table.cast(writer.schema) if table.schema != writer.schema else table)
        if writer is not None:
            writer.close()
        spool.seek(0)
        while piece := spool.read(8 * 1024 * 1024):
            yield piece


def join(bucket: Bucket, job: dict[str, Any], chunk_count: int) -> dict[str, Any]:
    """The chunks' parts as the file's output, rejects renumbered for the whole file, then _manifest.json."""
    source = Source.from_document(job["source"])
    previous = already_scored(bucket, source)
    if previous is not None:
        return {**previous, "skipped": True}
    joined_at = time.perf_counter()
    fmt = file_format(source.key)
    parts = [bucket.read_json(part_key(source, index, ".manifest.json")) for index in range(chunk_count)]
    missing = [index for index, part in enumerate(parts) if part is None]
    if missing:
        raise RuntimeError(f"chunks {missing} of {source.key} have no part manifest; they must be scored first")
    offsets = np.concatenate([[0], np.cumsum([part["lines"] for part in parts])[:-1]]).astype(int).tolist()
    rejects: list[RowReject] = []
    for index, offset in enumerate(offsets):
        part_rejects = bucket.read_json(part_key(source, index, ".rejects.json")) or []
        rejects += [RowReject(int(row) + offset, reason) for row, reason in part_rejects]
    rejects.sort(key=lambda reject: reject.row)
    output_key = source.output_prefix + OUTPUT_NAMES[fmt]
    pieces = _joined_parquet(bucket, source, chunk_count) if fmt == PARQUET \
        else _part_bodies(bucket, source, chunk_count, output_suffix(fmt))
    bucket.write_parts(output_key, pieces, CONTENT_TYPES[fmt])
    bucket.write(source.rejects_key, rejects_csv(rejects), "text/csv")
    rows_in, scored = sum(part["rows_in"] for part in parts), sum(part["scored"] for part in parts)
    if scored + len(rejects) != rows_in:
        raise RuntimeError(f"batch accounting: {rows_in} rows in, {scored} scored, {len(rejects)} rejected")
    finished = time.time()
    return write_manifest(
        bucket, source, fmt, rows_in=rows_in, scored=scored, rejected=len(rejects),
        model_version=job["model_version"], output_key=output_key, chunks=chunk_count,
        started_at=float(job["started_at"]), finished_at=finished,
        timings={
            "chunk_s": [part["seconds"] for part in parts],
            "join_s": round(time.perf_counter() - joined_at, 3),
            "total_s": round(finished - float(job["started_at"]), 3),
        },
    )


def summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the state machine keeps of a manifest: small enough for any execution history."""
    return {key: manifest.get(key) for key in ("etag", "rows_in", "scored", "rejected", "model_version", "chunks",
                                                "skipped")}

