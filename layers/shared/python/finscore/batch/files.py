"""Where a dropped file's outputs go and how an earlier run over the same ETag is recognised."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from finscore.products.custom.spec import BATCH_FOLDER
from finscore.products.custom.definition import model_key
from finscore.s3 import Bucket
from finscore.resources import BATCH_INCOMING_QUEUE, BATCH_PARTS_PREFIX, BATCH_SCORED_PREFIX

INCOMING_PREFIX = BATCH_INCOMING_QUEUE.s3_prefix
SCORED_PREFIX = BATCH_SCORED_PREFIX
MANIFEST_NAME = "_manifest.json"
REJECTS_NAME = "rejects.csv"
# Chunk parts of fanned-out files, kept apart from the outputs; the data bucket expires them.
PARTS_PREFIX = BATCH_PARTS_PREFIX


@dataclass(frozen=True)
class Source:
    """A dropped file: where it is, which product scores it, and the version (ETag) being scored."""

    bucket: str
    key: str
    product: str
    name: str
    etag: str
    size: int

    @property
    def output_prefix(self) -> str:
        # The input's own path under scored/: scored/<product>/<name>/, scored/custom/<model>/<name>/.
        return f"{SCORED_PREFIX}{self.key[len(INCOMING_PREFIX):]}/"

    @property
    def manifest_key(self) -> str:
        return self.output_prefix + MANIFEST_NAME

    @property
    def rejects_key(self) -> str:
        return self.output_prefix + REJECTS_NAME

    def document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Source:
        return cls(**{name: document[name] for name in ("bucket", "key", "product", "name", "etag", "size")})


def product_and_name(key: str) -> tuple[str, str]:
    """incoming/<product>/<name> -> (product, name), incoming/custom/<model>/<name> -> (custom-<model>,
    name); ValueError for any other key."""
    product, _, name = key[len(INCOMING_PREFIX):].partition("/")
    if product == BATCH_FOLDER:
        model, _, name = name.partition("/")
        product = model_key(model) if model else ""
    if not key.startswith(INCOMING_PREFIX) or key.endswith("/") or not product or not name:
        raise ValueError(f"{key} is not a file under {INCOMING_PREFIX}<product>/ or {INCOMING_PREFIX}{BATCH_FOLDER}/<model>/")
    return product, name


def utc_iso(moment: float | None = None) -> str:
    when = datetime.fromtimestamp(moment if moment is not None else time.time(), tz=timezone.utc)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def already_scored(bucket: Bucket, source: Source) -> dict[str, Any] | None:
    """The manifest of an earlier run over this very ETag, if there is one (one that failed in a way
    a new attempt may not does not count)."""
    previous = bucket.read_json(source.manifest_key)
    done = previous and previous.get("etag") == source.etag and not previous.get("retryable")
    return previous if done else None


def write_manifest(bucket: Bucket, source: Source, fmt: str, *, rows_in: int, scored: int, rejected: int,
                   model_version: str, output_key: str, chunks: int, started_at: float, finished_at: float,
                   timings: dict[str, Any]) -> dict[str, Any]:
    """Write _manifest.json, the last object of a scored file (its ETag marks the file done); returns it."""
    manifest = {
        "source": {"bucket": source.bucket, "key": source.key, "bytes": source.size},
        "etag": source.etag,
        "product": source.product,
        "format": fmt,
        "rows_in": rows_in,
        "scored": scored,
        "rejected": rejected,
        "model_version": model_version,
        "outputs": {"scored": output_key, "rejects": source.rejects_key},
        "chunks": chunks,
        "started_at": utc_iso(started_at),
        "finished_at": utc_iso(finished_at),
        "timings": timings,
    }
    bucket.write_json(source.manifest_key, manifest)
    return manifest
