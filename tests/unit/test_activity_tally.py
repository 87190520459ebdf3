"""Counting what a function serves: in memory on the request thread, added to the table by a background thread."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import numpy as np

from finscore.activity.summary import summarise, window
from finscore.activity.tally import MAX_VALUES, OTHER_VALUE, SAMPLE_ROWS, ActivityTally, hour_of

MOMENT = datetime(2026, 12, 3, 10, 42, tzinfo=timezone.utc)
KINDS = {"probability": "float", "risk_score": "float", "risk_level": "category", "purchase": "bool",
         "segment": "string"}


class Recorder:
    def __init__(self, fail: bool = False):
        self.items: list[tuple[str, str, dict]] = []
        self.threads: list[str] = []
        self.fail = fail

    def __call__(self, product, hour, counters):
        self.threads.append(threading.current_thread().name)
        if self.fail:
            raise RuntimeError("table gone")
        self.items.append((product, hour, counters))


def tally(recorder: Recorder, **options) -> ActivityTally:
    return ActivityTally(recorder, now=lambda: MOMENT, **options)


def test_requests_are_counted_by_status_class_and_written_once_per_product_and_hour():
    recorder = Recorder()
    counting = tally(recorder)
    for status in (200, 200, 404, 422, 503):
        counting.request("risk", status)
    counting.request("demand", 200)

    assert recorder.items == []  # nothing is written on the request thread
    assert counting.flush() == 2

    written = {product: (hour, counters) for product, hour, counters in recorder.items}
    assert written["risk"] == ("2026-12-03T10", {"requests": 5, "ok": 2, "client_errors": 2, "server_errors": 1})
    assert written["demand"][1] == {"requests": 1, "ok": 1}
    assert counting.flush() == 0


def test_scores_are_summarised_per_output_kind():
    recorder = Recorder()
    counting = tally(recorder)
    counting.scored("risk", {
        "probability": np.array([0.1, 0.3, np.nan]),
        "risk_score": np.array([10.0, 30.0, 50.0]),
        "risk_level": np.array(["low", "low", "high"], dtype=object),
        "purchase": np.array([True, False, True]),
        "segment": np.array(["a", "b", "c"], dtype=object),
    }, KINDS)
    counting.scored("risk", {"risk_score": np.array([90.0]), "risk_level": np.array(["critical"], dtype=object)},
                    KINDS, source="batch")
    counting.flush()

    (_, _, counters), = recorder.items
    assert counters["records"] == 4 and counters["records.online"] == 3 and counters["records.batch"] == 1
    assert counters["sum.risk_score"] == 180.0 and counters["n.risk_score"] == 4
    assert counters["sum.probability"] == 0.4 and counters["n.probability"] == 2  # NaN is not a score
    assert counters["value.risk_level=low"] == 2 and counters["value.risk_level=high"] == 1
    assert counters["value.risk_level=critical"] == 1
    assert counters["value.purchase=True"] == 2 and counters["value.purchase=False"] == 1
    assert not any(name.startswith(("value.segment", "sum.segment")) for name in counters)  # free strings


def test_values_past_the_cap_of_an_hour_are_counted_as_other():
    recorder = Recorder()
    counting = tally(recorder)
    levels = np.array([f"level-{i:02d}" for i in range(MAX_VALUES + 3)], dtype=object)
    counting.scored("demand", {"band": levels}, {"band": "category"})
    counting.flush()

    (_, _, counters), = recorder.items
    values = {name for name in counters if name.startswith("value.band=")}
    assert len(values) == MAX_VALUES + 1
    assert counters[f"value.band={OTHER_VALUE}"] == 3


def test_a_large_block_counts_its_values_on_a_random_sample_scaled_to_its_size():
    recorder = Recorder()
    counting = tally(recorder)
    rows = SAMPLE_ROWS * 10
    levels = np.where(np.arange(rows) % 4 == 0, "high", "low").astype(object)
    counting.scored("risk", {"risk_level": levels, "risk_score": np.ones(rows)}, KINDS, source="batch")
    counting.flush()

    (_, _, counters), = recorder.items
    assert counters["records"] == rows and counters["n.risk_score"] == rows
    assert counters["value.risk_level=high"] + counters["value.risk_level=low"] == rows
    # A repeating pattern (every 4th row high) would alias a stride sample; a random one sees a quarter.
    assert abs(counters["value.risk_level=high"] / rows - 0.25) < 0.02


def test_the_background_thread_writes_once_the_counts_are_due_and_a_failed_write_is_dropped():
    recorder = Recorder(fail=True)
    clock = [0.0]
    counting = tally(recorder, flush_seconds=0.05, clock=lambda: clock[0])
    counting.request("risk", 200)
    assert not counting.due()
    clock[0] = 1.0
    assert counting.due()

    assert counting.flush() == 0  # the write failed: logged and dropped, never retried without bound
    assert counting.pending() == 0


def test_the_flush_runs_on_its_own_thread():
    recorder = Recorder()
    counting = ActivityTally(recorder, flush_seconds=0.01)
    counting.request("risk", 200)
    for _ in range(200):
        if recorder.items:
            break
        threading.Event().wait(0.02)
    assert recorder.items and recorder.threads == ["activity-tally"]


def test_the_summary_fills_every_period_and_derives_means_and_counts():
    first, last, periods = window("hour", 1, MOMENT)
    assert (first, last) == ("2026-12-02T11", "2026-12-03T10") and len(periods) == 24
    items = [
        {"product": "risk", "hour": "2026-12-03T09", "requests": 4, "ok": 3, "client_errors": 1, "records": 10,
         "records.online": 10, "sum.risk_score": 400.0, "n.risk_score": 10, "value.risk_level=low": 7,
         "value.risk_level=high": 3, "expires_at": 1_900_000_000},
        {"product": "risk", "hour": "2026-12-03T10", "requests": 2, "ok": 2, "records": 2, "records.batch": 2,
         "sum.risk_score": 20.0, "n.risk_score": 2, "value.risk_level=low": 2},
    ]

    totals, series = summarise(items, "hour", periods)

    assert [entry["period"] for entry in series] == periods
    assert series[0]["requests"] == 0 and series[0]["means"] == {}
    assert series[-2]["means"] == {"risk_score": 40.0} and series[-2]["counts"] == {"risk_level": {"low": 7, "high": 3}}
    assert totals["requests"] == 6 and totals["client_errors"] == 1 and totals["records"] == 12
    assert totals["online_records"] == 10 and totals["batch_records"] == 2
    assert totals["means"]["risk_score"] == 35.0
    assert totals["counts"]["risk_level"] == {"low": 9, "high": 3}

    _, _, days = window("day", 3, MOMENT)
    assert days == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"][-len(days):]
    _, by_day = summarise(items, "day", days)
    assert by_day[-1]["requests"] == 6


def test_hours_are_utc():
    assert hour_of(datetime(2026, 12, 3, 23, 30, tzinfo=timezone.utc)) == "2026-12-03T23"
