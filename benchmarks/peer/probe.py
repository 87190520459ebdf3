"""One cold execution environment of the peer Lambda, then WARM in-process calls; prints one JSON line.

Usage (peer venv): python probe.py EVENT_JSON WARM. Mirrors benchmarks/serving_probe.py: the clock
starts before any import, so cold_s covers imports, the model fetch from S3 and the first answer.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent


class FakeContext:
    """The attributes Mangum and typical handlers read from a Lambda context."""

    function_name = "peer-recommend"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:peer-recommend"
    memory_limit_in_mb = 1024
    log_group_name = "/aws/lambda/peer-recommend"
    log_stream_name = "local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM starts afresh at exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    event_file, warm_requests = Path(sys.argv[1]), int(sys.argv[2])
    event = json.loads(event_file.read_text())
    sys.path.insert(0, str(HERE))
    from app import handler

    context = FakeContext()
    first = handler(event, context)
    cold_s = time.perf_counter() - STARTED
    if first.get("statusCode") != 200:
        raise SystemExit(f"first answer was {first.get('statusCode')}: {first.get('body')}")
    timings = []
    for _ in range(warm_requests):
        begin = time.perf_counter_ns()
        answer = handler(event, context)
        timings.append(time.perf_counter_ns() - begin)
        if answer["statusCode"] != 200:
            raise SystemExit(f"warm answer was {answer['statusCode']}: {answer.get('body')}")
    timings.sort()
    print(json.dumps({
        "cold_s": cold_s,
        "warm_p50_ms": timings[len(timings) // 2] / 1e6 if timings else None,
        "warm_p99_ms": timings[int(len(timings) * 0.99)] / 1e6 if timings else None,
        "peak_rss_mb": peak_rss_mb(),
        "first_answer": json.loads(first["body"]),
    }))


if __name__ == "__main__":
    main()
