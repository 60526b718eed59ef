"""A manual clock for the fake exchanges: their "now" moves only when a test says so."""

from __future__ import annotations

import threading


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
