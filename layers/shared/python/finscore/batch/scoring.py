"""Scoring rows of one product with one model version, and the model versions a batch uses.

A whole file is scored with one model version: the single path takes the champion when it starts;
a fanned-out file pins the champion's version in its plan, and every chunk loads exactly that
version, so a promotion while the chunks run cannot mix two models in one output.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator

from finscore.batch.formats import (
    RowReject,
    Rows,
    header_names,
    line_ranges,
    read_csv_block,
    split_header,
    write_rows,
)
from finscore.batch.products import BATCH_PRODUCTS, MODEL_VERSION_COLUMN, BatchProduct
from finscore.batch.settings import BatchSettings
from finscore.errors import ValidationFailed
from finscore.models.champion import ChampionCache, LoadedModel, serving_champion
from finscore.models.store import ModelStore
from finscore.settings import load_settings


# Lines of a CSV go to threads in blocks of about this size: small enough to balance two to four
# cores and to overlap parsing, scoring and writing, large enough that per-block costs stay small.
CSV_BLOCK_BYTES = 8 * 1024 * 1024


@dataclass
class ScoredRows:
    body: bytes
    scored: int
    rejects: list[RowReject]
    rows_in: int


def batch_product(name: str) -> BatchProduct:
    if name not in BATCH_PRODUCTS:
        raise ValidationFailed(f"product: {name!r} has no batch scoring; use one of {sorted(BATCH_PRODUCTS)}")
    return BATCH_PRODUCTS[name]


def score_rows(product: BatchProduct, loaded: LoadedModel, rows: Rows, *, header: bool = True) -> ScoredRows:
    """ROWS validated and scored; the good ones written with the outputs and model_version, in their format."""
    prepared = product.prepare(rows)
    outputs = dict(product.score(loaded.model, prepared))
    scored = int(prepared.valid.sum())
    outputs[MODEL_VERSION_COLUMN] = pa.repeat(pa.scalar(loaded.version), scored) if scored \
        else pa.array([], pa.string())
    body = write_rows(rows, prepared.valid, outputs, header=header)
    numbers = rows.numbers
    rejects = rows.rejects + [RowReject(int(numbers[index]), reason) for index, reason in prepared.reasons.items()]
    rejects.sort(key=lambda reject: reject.row)
    rows_in = rows.count + len(rows.rejects)
    if scored + len(rejects) != rows_in:
        raise RuntimeError(f"batch accounting: {rows_in} rows in, {scored} scored, {len(rejects)} rejected")
    return ScoredRows(body, scored, rejects, rows_in)


def score_csv(product: BatchProduct, loaded: LoadedModel, body: bytes, names: list[str] | None = None,
              *, header: bool = True, write: Callable[[Iterable[bytes]], None] | None = None,
              ) -> tuple[ScoredRows, int]:
    """A CSV (with its header, or a headerless chunk given the column NAMES) scored in line-aligned
    blocks on every core, each block parsed, validated, scored and written by one thread: pyarrow and
    onnxruntime release the GIL, so the stages of different blocks overlap. With WRITE, the scored
    blocks are handed to it in order as they finish (an upload overlaps the scoring of later blocks)
    and the result's body is empty. Returns the result and the lines scored (a chunk's place in its file)."""
    start = 0
    if names is None:
        first, _ = split_header(body)
        names, start = header_names(first), len(first)
    workers = os.cpu_count() or 1
    blocks = max(workers, (len(body) - start) // CSV_BLOCK_BYTES)
    view = memoryview(body)
    ranges = line_ranges(body, start, blocks) or [(start, start)]

    def score_block(index: int) -> tuple[int, ScoredRows]:
        begin, end = ranges[index]
        rows = read_csv_block(names, view[begin:end])
        return rows.lines, score_rows(product, loaded, rows, header=header and index == 0)

    total = ScoredRows(b"", 0, [], 0)
    lines_before = 0

    def scored_bodies(results: Iterator[tuple[int, ScoredRows]]) -> Iterator[bytes]:
        nonlocal lines_before
        for lines, result in results:
            total.rejects.extend(RowReject(reject.row + lines_before, reject.reason) for reject in result.rejects)
            total.scored += result.scored
            total.rows_in += result.rows_in
            lines_before += lines
            yield result.body

    with ThreadPoolExecutor(max_workers=workers) as pool:
        bodies = scored_bodies(pool.map(score_block, range(len(ranges))))
        if write is None:
            total.body = b"".join(bodies)
        else:
            write(bodies)
    return total, lines_before


@lru_cache(maxsize=1)
def batch_settings() -> BatchSettings:
    return load_settings(BatchSettings)


@lru_cache(maxsize=None)
def champion(product: str) -> ChampionCache:
    """The execution environment's champion cache for PRODUCT."""
    return serving_champion(product, batch_product(product).loader, batch_settings())


@lru_cache(maxsize=4)
def pinned_model(product: str, version: str) -> LoadedModel:
    """Exactly VERSION of PRODUCT (the version a fanned-out file's plan chose), loaded once."""
    current = champion(product).current
    if current is not None and current.version == version:
        return current
    store = ModelStore(batch_settings().models_bucket)
    manifest = store.read_manifest(product, version)
    model = batch_product(product).loader(manifest, lambda name: store.read_artifact(manifest, name))
    return LoadedModel(version=version, manifest=manifest, model=model)


def reset_models() -> None:
    """Forget cached settings and models (tests that start from a fresh model store call this)."""
    batch_settings.cache_clear()
    champion.cache_clear()
    pinned_model.cache_clear()
