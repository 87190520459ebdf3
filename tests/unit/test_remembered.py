"""What a warm function remembers of its stores, and forgets when it changed them itself."""

from __future__ import annotations

from finscore.remembered import Remembered


def test_a_forgotten_key_is_read_afresh_and_the_others_are_kept():
    reads: list[str] = []
    remembered: Remembered[str] = Remembered()

    def read(key: str):
        return lambda: reads.append(key) or f"{key}-{len(reads)}"

    assert remembered.get("a", read("a"), 60) == "a-1"
    assert remembered.get("b", read("b"), 60) == "b-2"
    remembered.forget("a")
    assert remembered.get("a", read("a"), 60) == "a-3" and remembered.get("b", read("b"), 60) == "b-2"
    remembered.forget()
    assert remembered.get("b", read("b"), 60) == "b-4"
