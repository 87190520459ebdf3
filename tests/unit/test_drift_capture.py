"""The drift capture buffer: sampling, and flushing off the request thread by size or by age."""

from __future__ import annotations

import json
import threading

from finscore.drift.capture import CaptureBuffer, capture_key


class RecordingWriter:
    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.threads: list[str] = []
        self.written = threading.Event()

    def __call__(self, key: str, body: bytes) -> None:
        self.objects[key] = body
        self.threads.append(threading.current_thread().name)
        self.written.set()


def test_sampling_follows_the_rate():
    draws = iter([0.01, 0.5, 0.049, 0.05])
    buffer = CaptureBuffer(RecordingWriter(), 0.05, draw=lambda: next(draws))
    assert [buffer.sampled() for _ in range(4)] == [True, False, True, False]
    assert not CaptureBuffer(RecordingWriter(), 0.0).sampled()


def test_adding_a_record_writes_nothing_on_the_calling_thread():
    writer = RecordingWriter()
    buffer = CaptureBuffer(writer, 1.0, flush_records=1000, flush_seconds=3600)

    buffer.add("recommend", "v1", {"age": 30.0}, {"cluster": 1})

    assert writer.objects == {} and buffer.pending() == 1


def test_a_full_buffer_is_flushed_by_the_background_thread_as_json_lines():
    writer = RecordingWriter()
    buffer = CaptureBuffer(writer, 1.0, flush_records=3, flush_seconds=3600)

    for age in (30, 40, 50):
        buffer.add("recommend", "v1", {"age": float(age)}, {"cluster": 1})

    assert writer.written.wait(10), "the background thread did not flush"
    (key, body), = writer.objects.items()
    assert key.startswith("capture/recommend/") and key.endswith(".jsonl")
    assert [json.loads(line)["features"]["age"] for line in body.decode().splitlines()] == [30.0, 40.0, 50.0]
    assert writer.threads == ["drift-capture"]
    assert buffer.pending() == 0


def test_an_old_buffer_is_flushed_by_age():
    now = [0.0]
    writer = RecordingWriter()
    buffer = CaptureBuffer(writer, 1.0, flush_records=1000, flush_seconds=0.05, clock=lambda: now[0])
    buffer.add("risk", "v1", {"x": 1.0}, {"probability": 0.2})
    assert not buffer.due()

    now[0] = 1.0

    assert buffer.due()
    assert writer.written.wait(10), "the background thread did not flush an old buffer"
    assert list(writer.objects)[0].startswith("capture/risk/")


def test_a_failed_write_drops_the_sample_without_raising():
    def failing(key: str, body: bytes) -> None:
        raise RuntimeError("s3 down")

    buffer = CaptureBuffer(failing, 1.0, flush_records=1000, flush_seconds=3600)
    buffer.add("risk", "v1", {"x": 1.0}, {})

    assert buffer.flush() == 0 and buffer.pending() == 0


def test_capture_keys_are_partitioned_by_product_and_date():
    from datetime import datetime, timezone

    key = capture_key("risk", datetime(2026, 11, 21, 3, 4, 5, tzinfo=timezone.utc))
    assert key.startswith("capture/risk/2026-11-21/030405000000-") and key.endswith(".jsonl")
