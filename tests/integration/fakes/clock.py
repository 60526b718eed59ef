"""A manual clock for the fake exchanges: their "now" moves only when a test says so."""

from __future__ import annotations

import threading
import time


class ManualClock:
    """Epoch milliseconds that change only through `set` / `advance` (thread-safe)."""

    def __init__(self, now_ms: int):
        self._now = int(now_ms)
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def set(self, now_ms: int) -> tuple[int, int]:
        """Moves to `now_ms` (never backwards); returns (previous, new)."""
        with self._lock:
            before = self._now
            self._now = max(self._now, int(now_ms))
            return before, self._now

    def advance(self, ms: int) -> tuple[int, int]:
        """Moves forward by `ms`; returns (previous, new)."""
        if ms < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            before = self._now
            self._now += int(ms)
            return before, self._now


class WallClock:
    """Real time plus an offset, for tests that run a real gateway against a fake exchange:
    "now" follows the wall clock, and `advance` jumps it ahead (the offset only grows)."""

    def __init__(self, offset_ms: int = 0):
        self._offset = int(offset_ms)
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return int(time.time() * 1000) + self._offset

    def set(self, now_ms: int) -> tuple[int, int]:
        with self._lock:
            before = int(time.time() * 1000) + self._offset
            self._offset += max(0, int(now_ms) - before)
            return before, before + max(0, int(now_ms) - before)

    def advance(self, ms: int) -> tuple[int, int]:
        if ms < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            before = int(time.time() * 1000) + self._offset
            self._offset += int(ms)
            return before, before + int(ms)
