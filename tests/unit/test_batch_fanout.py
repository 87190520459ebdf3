"""Fan-out of large files: line-aligned chunk plans, and chunks joined back into one numbered output.

The chunk and join code runs on real files in moto's S3 with a stand-in product (x doubled), so the
numbers checked are the pipeline's own, not a model's.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pydantic import BaseModel

from finscore.aws import client
from finscore.batch import fanout
from finscore.batch.files import Source
from finscore.batch.pipeline import execution_name
from finscore.models.champion import LoadedModel
from finscore.models.manifest import OutputSpec
from finscore.products import registry
from finscore.products.scoring import Scorer
from finscore.products.spec import ProductSpec
from finscore.resources import FunctionSpec
from finscore.s3 import Bucket
from tests.fakes import fake_manifest


def test_ranges_begin_and_end_on_line_starts_whatever_the_nominal_boundaries():
    body = b"".join(f"{index},{'x' * (index % 13)}\n".encode() for index in range(300))
    for chunk_bytes in (1, 7, 50, 333, len(body) + 1):
        ranges = fanout.line_aligned_ranges(lambda a, b: body[a:b], len(body), 0, chunk_bytes)
        assert ranges[0][0] == 0 and ranges[-1][1] == len(body)
        assert all(end == begin for (_, end), (begin, _) in zip(ranges, ranges[1:]))
        # Every range holds whole lines: a row straddling a nominal boundary stays in one range.
        assert all(body[begin:end].endswith(b"\n") for begin, end in ranges)
        assert sum(body[begin:end].count(b"\n") for begin, end in ranges) == 300


def test_a_line_longer_than_the_probe_is_still_found(monkeypatch):
    monkeypatch.setattr(fanout, "PROBE_BYTES", 4)
    body = b"a" * 50 + b"\n" + b"b" * 10 + b"\n"
    assert fanout.next_line_start(lambda a, b: body[a:b], 3, len(body)) == 51
    assert fanout.next_line_start(lambda a, b: body[a:b], 51, len(body)) == 51
    assert fanout.line_aligned_ranges(lambda a, b: body[a:b], len(body), 0, 10) == [(0, 51), (51, 62)]


def test_row_groups_are_gathered_into_chunks():
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": list(range(100))}), sink, row_group_size=10)
    parquet = pq.ParquetFile(io.BytesIO(sink.getvalue()))
    group_bytes = parquet.metadata.row_group(0).total_byte_size
    chunks = fanout.row_group_chunks(parquet, group_bytes * 3)
    assert [group for chunk in chunks for group in chunk] == list(range(10))
    assert all(1 <= len(chunk) <= 3 for chunk in chunks)


def test_execution_names_are_fixed_by_key_and_etag_and_valid():
    source = Source("b", "incoming/risk/a file (1).csv", "risk", "a file (1).csv", "e1", 10)
    again = Source("b", "incoming/risk/a file (1).csv", "risk", "a file (1).csv", "e1", 10)
    changed = Source("b", "incoming/risk/a file (1).csv", "risk", "a file (1).csv", "e2", 10)
    assert execution_name(source) == execution_name(again) != execution_name(changed)
    assert len(execution_name(source)) <= 80
    assert set(execution_name(source)) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class DoubleRecord(BaseModel):
    x: float


class DoubleFeatures:
    specs = ()

    @staticmethod
    def matrix(columns):
        return np.asarray(columns["x"], dtype=np.float32).reshape(-1, 1)


class Doubler:
    @classmethod
    def load(cls, manifest, read):
        return cls()

    def predict(self, matrix, columns):
        return {"doubled": matrix[:, 0].astype(np.float64) * 2.0}


DOUBLE = ProductSpec(
    name="double", description="x doubled", features=f"{__name__}:DoubleFeatures", model=f"{__name__}:Doubler",
    record=f"{__name__}:DoubleRecord", routes="", api=FunctionSpec("double_api", "DoubleApiFunction", "x doubled"),
)


@pytest.fixture
def doubling(aws, monkeypatch):
    """A stand-in product 'double' whose model doubles x, pinned at version v1."""
    manifest = fake_manifest("double", "v1").model_copy(update={"outputs": [OutputSpec(name="doubled", type="float")]})
    monkeypatch.setitem(registry.PRODUCTS, "double", DOUBLE)
    monkeypatch.setattr(fanout, "file_scorer",
                        lambda name, version=None: Scorer(DOUBLE, LoadedModel(version or "v1", manifest, Doubler())))
    yield Bucket(aws["DATA_BUCKET"])


def _put(bucket: Bucket, key: str, body: bytes) -> Source:
    client("s3").put_object(Bucket=bucket.name, Key=key, Body=body)
    size, etag = bucket.head(key)
    return Source(bucket.name, key, "double", key.split("/", 2)[2], etag, size)


def _run_chunks(bucket: Bucket, source: Source, chunks: list[dict], columns=None) -> dict:
    job = fanout.job_document(source, "v1", columns)
    for chunk in chunks:
        fanout.score_chunk(bucket, job, chunk)
    return fanout.join(bucket, job, len(chunks))


def test_a_bad_row_in_every_chunk_is_numbered_for_the_whole_file(doubling):
    bucket = doubling
    lines = ["id,x"] + [f"{n},{'bad' if n % 10 == 5 else n}" for n in range(1, 61)]
    source = _put(bucket, "incoming/double/sixty.csv", ("\n".join(lines) + "\n").encode())
    header_end = len(lines[0]) + 1
    ranges = fanout.line_aligned_ranges(lambda a, b: bucket.read(source.key, a, b)[0], source.size, header_end, 40)
    chunks = [{"index": index, "start": begin, "end": end} for index, (begin, end) in enumerate(ranges)]
    assert len(chunks) >= 6

    manifest = _run_chunks(bucket, source, chunks, ["id", "x"])

    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"], manifest["chunks"]) == (
        60, 54, 6, len(chunks))
    text = bucket.read(source.rejects_key)[0].decode()
    assert [int(row["row"]) for row in csv.DictReader(io.StringIO(text))] == [5, 15, 25, 35, 45, 55]
    scored = list(csv.DictReader(io.StringIO(bucket.read(source.output_prefix + "scored.csv")[0].decode())))
    assert [int(row["id"]) for row in scored] == [n for n in range(1, 61) if n % 10 != 5]
    assert all(float(row["doubled"]) == 2 * int(row["x"]) and row["model_version"] == "v1" for row in scored)


def test_join_is_idempotent_and_refuses_missing_chunks(doubling):
    bucket = doubling
    source = _put(bucket, "incoming/double/two.jsonl", b'{"x": 1}\n{"x": "no"}\n{"x": 3}\n')
    job = fanout.job_document(source, "v1", None)
    fanout.score_chunk(bucket, job, {"index": 0, "start": 0, "end": 9})
    with pytest.raises(RuntimeError, match=r"chunks \[1\]"):
        fanout.join(bucket, job, 2)
    fanout.score_chunk(bucket, job, {"index": 1, "start": 9, "end": source.size})

    first = fanout.join(bucket, job, 2)
    again = fanout.join(bucket, job, 2)

    assert (first["scored"], first["rejected"]) == (2, 1) and again["skipped"] is True
    rejects = list(csv.DictReader(io.StringIO(bucket.read(source.rejects_key)[0].decode())))
    assert [(row["row"], row["reason"]) for row in rejects] == [("2", "x: Input should be a valid number")]
    scored = [json.loads(line) for line in bucket.read(source.output_prefix + "scored.jsonl")[0].decode().splitlines()]
    assert [row["doubled"] for row in scored] == [2.0, 6.0]


def test_parquet_chunks_by_row_group_join_into_one_file(doubling):
    bucket = doubling
    sink = io.BytesIO()
    x = [float(n) if n % 8 else None for n in range(1, 41)]
    pq.write_table(pa.table({"id": list(range(1, 41)), "x": x}), sink, row_group_size=8)
    source = _put(bucket, "incoming/double/forty.parquet", sink.getvalue())
    chunks = [{"index": index, "row_groups": [index]} for index in range(5)]

    manifest = _run_chunks(bucket, source, chunks)

    table = pq.read_table(io.BytesIO(bucket.read(source.output_prefix + "scored.parquet")[0]))
    assert table.column("id").to_pylist() == [n for n in range(1, 41) if n % 8]
    text = bucket.read(source.rejects_key)[0].decode()
    assert [int(row["row"]) for row in csv.DictReader(io.StringIO(text))] == [8, 16, 24, 32, 40]
    assert manifest["rows_in"] == 40

