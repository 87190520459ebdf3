"""What a warm function read from its stores, remembered for a while by key.

A product's scoring path may answer from data it read a few seconds ago where that data changes
rarely and a re-read would cost more than the scoring (demand's pincode histories, opportunity's
businesses of a location). Each entry is kept for the TTL its caller gives when asking; one thread
reads a missing key while the others wait for it, so blocks of a batch file scored on several cores
read each key once.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Generic, Hashable, TypeVar

Value = TypeVar("Value")


class Remembered(Generic[Value]):
    """Key -> (monotonic time read, value) of one function instance."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[float, Value]] = {}
        self._reading = threading.Lock()

    def get(self, key: Hashable, read: Callable[[], Value], ttl_s: float) -> Value:
        """KEY's value as read at most TTL_S seconds ago, reading it with READ when older or unknown."""
        with self._reading:
            now = time.monotonic()
            found = self._entries.get(key)
            if found is not None and now - found[0] < ttl_s:
                return found[1]
            value = read()
            self._entries[key] = (now, value)
            return value

    def forget(self, key: Hashable | None = None) -> None:
        """Read KEY afresh next time (every key when None): its store changed through this function."""
        with self._reading:
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
