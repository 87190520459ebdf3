"""Scoring rows of one product with one model version, and the model versions a batch uses.

A whole file is scored with one model version: the single path takes the champion when it starts;
a fanned-out file pins the champion's version in its plan, and every chunk loads exactly that
version, so a promotion while the chunks run cannot mix two models in one output. Batch keeps its
own champion caches: a version is loaded with its native booster where its model declares one and
the booster passes the version's parity rule (finscore.models.native), which the API never does.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa

from finscore.batch.records import output_arrays, prepare_rows
from finscore.batch.settings import BatchSettings
from finscore.errors import NotFound, ValidationFailed
from finscore.models.champion import ChampionCache, LoadedModel, Loader, serving_champion
from finscore.models.manifest import Manifest
from finscore.models.native import batch_model
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.products import product
from finscore.products.custom.spec import custom_product, for_version, is_custom
from finscore.products.custom.definition import MODEL_KEY_PREFIX
from finscore.products.scoring import Scorer
from finscore.products.spec import ProductSpec, load
from finscore.settings import load_settings
from finscore.tabular import (
    RowReject,
    Rows,
    header_names,
    line_ranges,
    read_csv_block,
    split_header,
    write_rows,
)

MODEL_VERSION_COLUMN = "model_version"
# Lines of a CSV go to threads in blocks of about this size: small enough to balance two to four
# cores and to overlap parsing, scoring and writing, large enough that per-block costs stay small.
CSV_BLOCK_BYTES = 8 * 1024 * 1024


@dataclass
class ScoredRows:
    body: bytes
    scored: int
    rejects: list[RowReject]
    rows_in: int


def batch_product(name: str) -> ProductSpec:
    """The product a file under incoming/<name>/ is for (a custom model's under incoming/custom/<name>/);
    a 422 naming the known ones otherwise."""
    if is_custom(name):
        if not ModelRegistry(batch_settings().registry_table).has_versions(name):
            raise ValidationFailed(f"product: no version of custom model {name!r} is registered; "
                                   f"PUT /v1/custom-models/{name.removeprefix(MODEL_KEY_PREFIX)} trains one")
        return custom_product(name)
    try:
        return product(name)
    except NotFound as exc:
        raise ValidationFailed(f"product: {exc.message}") from exc


def score_rows(scorer: Scorer, rows: Rows, *, header: bool = True) -> ScoredRows:
    """ROWS validated and scored; the good ones written with the outputs and model_version, in their format."""
    prepared = prepare_rows(load(scorer.spec.record), rows)
    valid_rows = prepared.valid.nonzero()[0]
    count = len(valid_rows)
    columns, unscorable = scorer.enrich(prepared.columns, count)
    reasons = dict(prepared.reasons)
    keep = prepared.valid.copy()
    if unscorable:
        dropped = np.fromiter(unscorable, dtype=np.int64, count=len(unscorable))
        scorable = np.ones(count, dtype=bool)
        scorable[dropped] = False
        keep[valid_rows[dropped]] = False
        reasons.update({int(valid_rows[index]): reason for index, reason in unscorable.items()})
        columns = {name: values[scorable] for name, values in columns.items()}
    outputs = scorer.predict(columns)
    names = [output.name for output in scorer.loaded.manifest.outputs]
    arrays = output_arrays(outputs, names)
    scored = int(keep.sum())
    arrays[MODEL_VERSION_COLUMN] = pa.repeat(pa.scalar(scorer.version), scored) if scored \
        else pa.array([], pa.string())
    body = write_rows(rows, keep, arrays, header=header)
    numbers = rows.numbers
    rejects = rows.rejects + [RowReject(int(numbers[index]), reason) for index, reason in reasons.items()]
    rejects.sort(key=lambda reject: reject.row)
    rows_in = rows.count + len(rows.rejects)
    if scored + len(rejects) != rows_in:
        raise RuntimeError(f"batch accounting: {rows_in} rows in, {scored} scored, {len(rejects)} rejected")
    return ScoredRows(body, scored, rejects, rows_in)


def score_csv(scorer: Scorer, body: bytes, names: list[str] | None = None,
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
        return rows.lines, score_rows(scorer, rows, header=header and index == 0)

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


def batch_loader(spec: ProductSpec) -> Loader:
    """SPEC's model loader for batch files: the serving model, with its native booster where safe."""
    model_class = load(spec.model)

    def load_for_batch(manifest: Manifest, read: Callable[[str], bytes]):
        return batch_model(model_class.load(manifest, read), manifest, read)

    return load_for_batch


@lru_cache(maxsize=None)
def champion(name: str) -> ChampionCache:
    """The execution environment's champion cache of product NAME for batch files."""
    return serving_champion(name, batch_loader(batch_product(name)), batch_settings())


def file_scorer(name: str, version: str | None = None) -> Scorer:
    """A scorer of product NAME with its champion, or with exactly VERSION (the version a fanned-out
    file's plan pinned), loaded once."""
    spec = batch_product(name)
    loaded = champion(name).get() if version is None else pinned_model(name, version)
    if is_custom(name):
        spec = for_version(spec, loaded.manifest)
    return Scorer(spec, loaded, counted="batch")


@lru_cache(maxsize=4)
def pinned_model(name: str, version: str) -> LoadedModel:
    current = champion(name).current
    if current is not None and current.version == version:
        return current
    store = ModelStore(batch_settings().models_bucket)
    manifest = store.read_manifest(name, version)
    model = batch_loader(batch_product(name))(manifest, lambda artifact: store.read_artifact(manifest, artifact))
    return LoadedModel(version=version, manifest=manifest, model=model)


def reset_models() -> None:
    """Forget cached settings and models (tests that start from a fresh model store call this)."""
    batch_settings.cache_clear()
    champion.cache_clear()
    pinned_model.cache_clear()
