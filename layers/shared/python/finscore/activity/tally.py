"""Counting what a function serves: requests by status class, records scored, and a summary of the
scores, per product and UTC hour.

The request thread adds to in-memory counters under a lock: no I/O. A daemon thread
(finscore.background) adds them to each product's hourly item of the activity table with one
atomic UpdateItem ADD every FLUSH_SECONDS, so a warm function writes at most one item per product
and hour that often, whatever its traffic. Counts still held when an execution environment is
recycled are lost: the figures are a view of traffic, not a ledger (requests are logged and batch
files keep their own manifests).

A score summary keeps, for each output the manifest declares, what a trend needs: the sum and count
of a numeric output (float, int) and the count of each value of a categorical one (category, bool;
at most MAX_VALUES values per output and hour, the rest counted as "other"). Blocks of more than
SAMPLE_ROWS rows (batch files) count their categorical values on a random sample of the block,
scaled to its size, so that a million-row file pays milliseconds for its trend.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Callable, Mapping, Sequence

from pydantic import Field

from finscore import resources
from finscore.background import Flusher
from finscore.errors import ConfigurationError
from finscore.observability import logger
from finscore.settings import FunctionSettings, load_settings

if TYPE_CHECKING:
    import numpy as np

FLUSH_SECONDS = 10.0
MAX_VALUES = 12
OTHER_VALUE = "other"
SAMPLE_ROWS = 20_000
NUMERIC_OUTPUTS = ("float", "int")
CATEGORICAL_OUTPUTS = ("category", "bool")

# Adds counters to one product's item of one hour: (product, hour, {attribute: amount}).
Writer = Callable[[str, str, Mapping[str, float]], None]


def hour_of(moment: datetime) -> str:
    """The activity table's sort key of MOMENT's UTC hour: "2026-12-03T10"."""
    return f"{moment.astimezone(timezone.utc):%Y-%m-%dT%H}"


def status_class(status: int) -> str:
    return "server_errors" if status >= 500 else "client_errors" if status >= 400 else "ok"


# The counters of an hour's item, by attribute name. Output names come from manifests and values
# from models, so both sit inside the name; the store passes names as placeholders.
SUM_PREFIX, COUNT_PREFIX, VALUE_PREFIX = "sum.", "n.", "value."


def sum_attribute(output: str) -> str:
    return f"{SUM_PREFIX}{output}"


def count_attribute(output: str) -> str:
    return f"{COUNT_PREFIX}{output}"


def value_attribute(output: str, value: str) -> str:
    return f"{VALUE_PREFIX}{output}={value}"


class ActivityTally:
    """Counters of one execution environment, added to the activity table by a background thread."""

    def __init__(self, writer: Writer, *, flush_seconds: float = FLUSH_SECONDS,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] | None = None):
        self._writer = writer
        self._flush_seconds = flush_seconds
        self._clock = clock
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], dict[str, float]] = {}
        self._values: dict[tuple[str, str, str], set[str]] = {}
        self._oldest: float | None = None
        self._flusher = Flusher("activity-tally", self.due, self.flush, max(min(flush_seconds / 4, 5.0), 0.01))

    def request(self, product: str, status: int) -> None:
        """One API request of PRODUCT answered with STATUS."""
        self._add(product, {"requests": 1, status_class(status): 1})

    def scored(self, product: str, outputs: Mapping[str, "np.ndarray"], kinds: Mapping[str, str], *,
               source: str = "online") -> None:
        """Records PRODUCT scored (OUTPUTS by name, KINDS: each output's manifest type) for SOURCE
        (online | batch)."""
        rows = len(next(iter(outputs.values()))) if outputs else 0
        if not rows:
            return
        counters: dict[str, float] = {"records": rows, f"records.{source}": rows}
        categorical: list[tuple[str, Sequence[str], Sequence[float]]] = []
        for name, kind in kinds.items():
            values = outputs.get(name)
            if values is None:
                continue
            if kind in NUMERIC_OUTPUTS:
                total, count = _numeric_summary(values)
                if count:
                    counters[sum_attribute(name)] = total
                    counters[count_attribute(name)] = count
            elif kind in CATEGORICAL_OUTPUTS:
                categorical.append((name, *_value_counts(values)))
        self._add(product, counters, categorical)

    def _add(self, product: str, counters: Mapping[str, float],
             categorical: Sequence[tuple[str, Sequence[str], Sequence[float]]] = ()) -> None:
        hour = hour_of(self._now())
        with self._lock:
            item = self._counts.setdefault((product, hour), defaultdict(float))
            for name, amount in counters.items():
                item[name] += amount
            for output, values, counts in categorical:
                seen = self._values.setdefault((product, hour, output), set())
                for value, count in zip(values, counts):
                    if value not in seen and len(seen) >= MAX_VALUES:
                        value = OTHER_VALUE
                    else:
                        seen.add(value)
                    item[value_attribute(output, value)] += count
            if self._oldest is None:
                self._oldest = self._clock()
        self._flusher.ensure_running()

    def discard(self) -> None:
        with self._lock:
            self._counts, self._values, self._oldest = {}, {}, None

    def pending(self) -> int:
        with self._lock:
            return len(self._counts)

    def due(self) -> bool:
        with self._lock:
            return self._oldest is not None and self._clock() - self._oldest >= self._flush_seconds

    def flush(self) -> int:
        """Add every buffered hour to the table; returns the items written. A failed write is dropped
        (logged), so that one bad write cannot grow the counters without bound."""
        with self._lock:
            counts, self._counts, self._oldest = self._counts, {}, None
            # The values seen are kept for the current hour only: its item may grow again.
            current = hour_of(self._now())
            self._values = {key: seen for key, seen in self._values.items() if key[1] == current}
        written = 0
        for (product, hour), counters in counts.items():
            try:
                self._writer(product, hour, dict(counters))
                written += 1
            except Exception:  # noqa: BLE001 - counting must never take serving down
                logger.warning("Activity write failed; counts dropped", extra={"product": product, "hour": hour})
        return written


def _numeric_summary(values: "np.ndarray") -> tuple[float, int]:
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    count = int(np.count_nonzero(finite))
    return (float(array[finite].sum()) if count else 0.0), count


def _value_counts(values: "np.ndarray") -> tuple[list[str], list[float]]:
    import numpy as np

    array = np.asarray(values)
    scale = 1.0
    if len(array) > SAMPLE_ROWS:
        # Random rows, not every k-th: a file ordered in a repeating pattern would alias a stride.
        array = array[np.random.default_rng().integers(0, len(array), SAMPLE_ROWS)]
        scale = len(values) / SAMPLE_ROWS
    if len(array) == 1:
        return [_text(array[0])], [scale]
    found, counts = np.unique(array.astype(str), return_counts=True)
    return [str(value) for value in found], (counts * scale).tolist()


def _text(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


class ActivitySettings(FunctionSettings):
    """Counting is on in functions that have the activity table."""

    table: Annotated[str | None, Field(alias=resources.ACTIVITY_TABLE.env_var)] = None


@lru_cache(maxsize=1)
def activity_tally() -> ActivityTally | None:
    """The execution environment's tally; None where the function has no activity table."""
    from finscore.activity.store import add_counts

    try:
        table = load_settings(ActivitySettings).table
    except ConfigurationError as exc:
        logger.warning(f"Activity counting is off: {exc.message}")
        return None
    if not table:
        return None
    return ActivityTally(lambda product, hour, counters: add_counts(table, product, hour, counters))


def reset_activity() -> None:
    """Forget the tally and the counts it holds (tests, each with its own tables, call this), so that
    its thread never adds one test's counts to another's table."""
    if activity_tally.cache_info().currsize:
        tally = activity_tally()
        if tally is not None:
            tally.discard()
    activity_tally.cache_clear()
