"""A sample of scoring inputs and outputs, written to the data bucket for the drift monitor.

The request thread does at most a random draw and, for the sampled few, an append to an in-memory
buffer under a lock: no I/O, no serialisation. A daemon thread writes the buffer as one JSON Lines
object under capture/<product>/<date>/<uuid>.jsonl once it holds FLUSH_RECORDS records or its oldest
record is FLUSH_SECONDS old. A sample lost when an execution environment is frozen or recycled is
acceptable: drift needs a representative sample, not every request.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Callable, Mapping

from pydantic import Field

from finscore import resources
from finscore.background import Flusher
from finscore.errors import ConfigurationError
from finscore.observability import logger
from finscore.settings import FunctionSettings, load_settings

if TYPE_CHECKING:
    import numpy as np

CAPTURE_RATE_ENV = "DRIFT_CAPTURE_RATE"
DEFAULT_CAPTURE_RATE = 0.05
FLUSH_RECORDS = 200
FLUSH_SECONDS = 60.0

# Writes one object: (key, body). The default puts it in the data bucket.
Writer = Callable[[str, bytes], None]


def capture_key(product: str, moment: datetime) -> str:
    # Keys sort by write time (to the microsecond), so the monitor resumes after the last key it read.
    return f"{resources.CAPTURE_PREFIX}{product}/{moment:%Y-%m-%d}/{moment:%H%M%S%f}-{uuid.uuid4().hex}.jsonl"


class CaptureBuffer:
    """Sampled records of one execution environment, flushed by a background thread."""

    def __init__(self, writer: Writer, rate: float, *, flush_records: int = FLUSH_RECORDS,
                 flush_seconds: float = FLUSH_SECONDS, clock: Callable[[], float] = time.monotonic,
                 draw: Callable[[], float] = random.random):
        self.rate = min(max(rate, 0.0), 1.0)
        self._writer = writer
        self._flush_records = flush_records
        self._flush_seconds = flush_seconds
        self._clock = clock
        self._draw = draw
        self._lock = threading.Lock()
        # Wakes when the buffer fills, or every few seconds to honour the age limit.
        self._flusher = Flusher("drift-capture", self.due, self.flush, max(min(flush_seconds / 4, 5.0), 0.01))
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._oldest: float | None = None
        self.flushed_objects = 0

    def sampled(self) -> bool:
        """Whether this request is in the sample (cheap: one random draw)."""
        return self.rate > 0 and self._draw() < self.rate

    def sample(self, count: int) -> "np.ndarray":
        """The rows of a batch of COUNT that are in the sample (one draw per row)."""
        import numpy as np

        if self.rate <= 0:
            return np.empty(0, dtype=np.int64)
        return np.fromiter((row for row in range(count) if self._draw() < self.rate), dtype=np.int64)

    def add(self, product: str, model_version: str, features: Mapping[str, float], outputs: Mapping[str, Any]) -> None:
        """Buffer one record; never blocks on I/O."""
        record = {
            "captured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model_version": model_version,
            "features": dict(features),
            "outputs": dict(outputs),
        }
        with self._lock:
            self._buffers.setdefault(product, []).append(record)
            if self._oldest is None:
                self._oldest = self._clock()
            full = sum(len(records) for records in self._buffers.values()) >= self._flush_records
        self._flusher.ensure_running()
        if full:
            self._flusher.wake()

    def pending(self) -> int:
        with self._lock:
            return sum(len(records) for records in self._buffers.values())

    def due(self) -> bool:
        with self._lock:
            if self._oldest is None:
                return False
            count = sum(len(records) for records in self._buffers.values())
            return count >= self._flush_records or self._clock() - self._oldest >= self._flush_seconds

    def flush(self) -> int:
        """Write every buffered product's records as one object each; returns the records written.

        Called by the background thread (and by tests); a failed write keeps nothing back, so one
        bad write cannot grow the buffer without bound.
        """
        with self._lock:
            buffers, self._buffers, self._oldest = self._buffers, {}, None
        written = 0
        for product, records in buffers.items():
            body = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records).encode()
            try:
                self._writer(capture_key(product, datetime.now(timezone.utc)), body)
                written += len(records)
                self.flushed_objects += 1
            except Exception:  # noqa: BLE001 - capture must never take serving down
                logger.warning("Drift capture write failed; sample dropped",
                               extra={"product": product, "records": len(records)})
        return written


class CaptureSettings(FunctionSettings):
    """Capture is on in functions that have a data bucket to write to."""

    data_bucket: Annotated[str | None, Field(alias="DATA_BUCKET")] = None
    rate: Annotated[float, Field(alias=CAPTURE_RATE_ENV, ge=0, le=1)] = DEFAULT_CAPTURE_RATE


@lru_cache(maxsize=1)
def capture_buffer() -> CaptureBuffer:
    """The execution environment's buffer; capture is off when the function has no data bucket."""
    from finscore.drift.store import put_capture

    try:
        settings = load_settings(CaptureSettings)
    except ConfigurationError as exc:
        # Capture must never take serving down: a bad rate turns it off, loudly.
        logger.warning(f"Drift capture is off: {exc.message}")
        settings = CaptureSettings(DATA_BUCKET=None)
    bucket = settings.data_bucket
    return CaptureBuffer(lambda key, body: put_capture(bucket, key, body), settings.rate if bucket else 0.0)


def reset_capture() -> None:
    """Forget the buffer (tests that change DRIFT_CAPTURE_RATE call this)."""
    capture_buffer.cache_clear()
