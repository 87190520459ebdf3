"""One cold execution environment of a scoring function: imports, champion from the embedded S3, answers.

Run by bench.py in a new process; prints one JSON line. The clock starts before any FinScore import.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM starts afresh at exec; ru_maxrss would carry the
    parent's peak over from the fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    function, event_file, warm_requests = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    event = json.loads(event_file.read_text())
    sys.path.insert(0, str(ROOT))
    from finscore.products import function as function_spec
    from local.gateway import LambdaContext, LocalFunction

    handler = LocalFunction(function, ROOT / "functions" / function_spec(function).folder / "handler.py")
    first = handler.invoke(event)
    cold_s = time.perf_counter() - STARTED
    if first["statusCode"] != 200:
        raise SystemExit(f"first answer was {first['statusCode']}: {first.get('body')}")
    module = handler._module
    context = LambdaContext(function)
    timings = []
    for _ in range(warm_requests):
        begin = time.perf_counter_ns()
        module.lambda_handler(event, context)
        timings.append(time.perf_counter_ns() - begin)
    timings.sort()
    heavy = sorted(name for name in ("sklearn", "scipy", "pandas", "xgboost", "lightgbm", "pyarrow") if name in sys.modules)
    print(json.dumps({
        "cold_s": cold_s,
        "warm_p50_ms": timings[len(timings) // 2] / 1e6 if timings else None,
        "warm_p99_ms": timings[int(len(timings) * 0.99)] / 1e6 if timings else None,
        "peak_rss_mb": peak_rss_mb(),
        "heavy_modules": heavy,
    }))


if __name__ == "__main__":
    main()
