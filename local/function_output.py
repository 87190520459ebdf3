"""Where a local function's stdout goes: its log file (as Lambda's goes to CloudWatch Logs), not the console.

Handlers print JSON logs and EMF metrics to stdout. Functions run in threads of one process here, so
stdout is replaced once by a stream that writes to the target of the calling thread. What Powertools
would keep per process (log keys, the metric set) finscore.observability keeps per thread, so that a
line written to a function's file also carries that function's context and metrics.
"""

from __future__ import annotations

import io
import sys
import threading
from contextlib import contextmanager
from typing import Iterator, TextIO


class ThreadRoutedStream(io.TextIOBase):
    def __init__(self, default: TextIO):
        self.default = default
        self._local = threading.local()

    def _target(self) -> TextIO:
        return getattr(self._local, "target", None) or self.default

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def writable(self) -> bool:
        return True

    @contextmanager
    def routed(self, target: TextIO | None) -> Iterator[None]:
        previous = getattr(self._local, "target", None)
        self._local.target = target
        try:
            yield
        finally:
            self._local.target = previous


def routed_stdout() -> ThreadRoutedStream:
    """Install the routing stream as sys.stdout (once) and return it."""
    if not isinstance(sys.stdout, ThreadRoutedStream):
        sys.stdout = ThreadRoutedStream(sys.stdout)
    return sys.stdout
