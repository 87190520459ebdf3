"""A daemon thread that writes what request threads buffered, off the request path.

Drift capture and the activity tally buffer in memory under a lock and leave the writing to one
thread per buffer, which wakes when told to (a full buffer) or every POLL seconds to ask whether its
buffer is due. In Lambda the thread is frozen with the execution environment between invocations and
carries on when it thaws; whatever is still buffered when an environment is recycled is lost, which
both buffers accept (a sample, a view of traffic).
"""

from __future__ import annotations

import threading
from typing import Any, Callable


class Flusher:
    def __init__(self, name: str, due: Callable[[], bool], flush: Callable[[], Any], poll_s: float):
        self._name = name
        self._due = due
        self._flush = flush
        self._poll_s = poll_s
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._poll_s)
            self._wake.clear()
            if self._due():
                self._flush()
