"""What both fake exchanges share above the transport: their markets, the bars, time moving on
(forming updates and closes pushed to subscribers), and the faults a test can inject."""

from __future__ import annotations

import threading
from typing import Any

from websockets.asyncio.server import ServerConnection

from .bars import Bar, BarSeries, Interval
from .clock import ManualClock, WallClock
from .server import FakeExchangeServer

DEFAULT_SYMBOLS = {"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT")}


class FakeMarketServer(FakeExchangeServer):
    """A fake exchange with seeded markets. Subclasses define `INTERVALS` (exchange interval
    name -> `Interval`) and how bars become REST rows and WebSocket messages."""

    INTERVALS: dict[str, Interval] = {}
    CONTROL = {
        **FakeExchangeServer.CONTROL,
        "now_ms": {},
        "advance": {"ms": int},
        "advance_to": {"now_ms": int},
        "step_bar": {"symbol": str, "interval": str, "updates": int},
        "corrupt_bar": {"symbol": str, "interval": str, "open_time": int, "*": str},
        "duplicate_next_closes": {"count": int},
        "push_bar": {"symbol": str, "interval": str, "open_time": int, "closed": bool},
        "rest_anomaly": {"kind": str},
        "subscribed": {"symbol": str, "interval": str},
    }

    def __init__(self, *, seed: int = 1, now_ms: int = 1_767_225_600_000, listed_ms: int | None = None,
                 symbols: dict[str, tuple[str, str]] | None = None, clock: ManualClock | WallClock | None = None,
                 ping_interval_s: float | None = None, ping_timeout_s: float | None = None):
        super().__init__(clock or ManualClock(now_ms), ping_interval_s, ping_timeout_s)
        self.seed = seed
        self.symbols = dict(symbols or DEFAULT_SYMBOLS)
        # Bars exist from the listing time on (default: 400 days before the start time).
        self.listed_ms = listed_ms if listed_ms is not None else self.clock.now_ms() - 400 * 86_400_000
        self._series: dict[tuple[str, str], BarSeries] = {}
        self._overrides: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._duplicate_closes = 0
        self._rest_anomalies: list[str] = []
        # connection -> set of (symbol, interval name) it follows
        self.subscriptions: dict[ServerConnection, set[tuple[str, str]]] = {}
        self._pump_lock = threading.Lock()
        self._pushed_until = self.clock.now_ms()
        self._pump_stop = threading.Event()
        self._pump_thread: threading.Thread | None = None

    # -- bars --------------------------------------------------------------------------------

    def series(self, symbol: str, interval: str) -> BarSeries:
        key = (symbol, interval)
        with self.lock:
            if key not in self._series:
                self._series[key] = BarSeries(self.seed, symbol, interval, self.INTERVALS[interval])
            return self._series[key]

    def bars(self, symbol: str, interval: str, start_ms: int, end_ms: int) -> list[Bar]:
        """The bars (closed, and the forming one as of now) with start_ms <= open_time <= end_ms,
        oldest first — what the exchange would answer, before any injected anomaly."""
        s = self.series(symbol, interval)
        now = self.clock.now_ms()
        grid = s.interval
        first = grid.index_of(max(start_ms, self.listed_ms))
        if grid.open_time(first) < max(start_ms, self.listed_ms):
            first += 1
        last = grid.index_of(min(end_ms, now))
        return [s.bar(i, now) for i in range(first, last + 1)]

    def closed_bar(self, symbol: str, interval: str, open_time: int) -> Bar:
        s = self.series(symbol, interval)
        return s.bar(s.interval.index_of(open_time))

    def overrides_for(self, symbol: str, interval: str, open_time: int) -> dict[str, Any]:
        with self.lock:
            return dict(self._overrides.get((symbol, interval, open_time), {}))

    # -- control API: time -------------------------------------------------------------------

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def advance(self, ms: int) -> list[dict]:
        """Moves the fake's clock forward by `ms` and pushes to every subscriber, in order: the
        closing message of each bar that ended in between, then one update of the forming bar
        as of the new now (none when the new now is exactly a bar boundary). Returns the
        messages sent (as objects)."""
        self.clock.advance(ms)
        return self.pump()

    def advance_to(self, now_ms: int) -> list[dict]:
        """Like `advance`, to an absolute time."""
        self.clock.set(now_ms)
        return self.pump()

    def pump(self) -> list[dict]:
        """Pushes what happened between the last push and the clock's now (what `advance` does
        after moving the clock); with a `WallClock`, call it periodically or `start_pump`."""
        with self._pump_lock:
            before, after = self._pushed_until, self.clock.now_ms()
            self._pushed_until = max(before, after)
            return self._push_between(before, after)

    def start_pump(self, period_s: float = 0.05) -> None:
        """Calls `pump` every `period_s` on a daemon thread until `stop` (for a `WallClock`)."""
        def loop():
            while not self._pump_stop.wait(period_s):
                self.pump()
        self._pump_thread = threading.Thread(target=loop, name="fake-exchange-pump", daemon=True)
        self._pump_thread.start()

    def stop(self) -> None:
        self._pump_stop.set()
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=5)
        super().stop()

    def step_bar(self, symbol: str, interval: str, updates: int = 3) -> list[dict]:
        """Plays the rest of the current bar: `updates` forming updates evenly spread, then the
        close (which lands exactly on the next bar's open time)."""
        grid = self.INTERVALS[interval]
        now = self.clock.now_ms()
        end = grid.open_time(grid.index_of(now) + 1)
        sent: list[dict] = []
        for k in range(1, updates + 1):
            target = now + (end - now) * k // (updates + 1)
            if target > self.clock.now_ms():
                sent += self.advance_to(target)
        sent += self.advance_to(end)
        return sent

    def _push_between(self, before: int, after: int) -> list[dict]:
        if after <= before:
            return []
        with self.lock:
            subs = {c: set(keys) for c, keys in self.subscriptions.items()}
        out: list[tuple[ServerConnection, str]] = []
        sent: list[dict] = []
        keys = sorted({k for ks in subs.values() for k in ks})
        for symbol, interval in keys:
            grid = self.INTERVALS[interval]
            s = self.series(symbol, interval)
            first_closed = grid.index_of(before - 1) if before > 0 else 0
            messages = []
            # bars whose end (next open) is in (before, after]
            i = first_closed
            while grid.open_time(i + 1) <= after:
                if grid.open_time(i + 1) > before and grid.open_time(i) >= self.listed_ms:
                    bar = s.bar(i)
                    messages.append(self.kline_message(symbol, interval, bar, event_ms=grid.open_time(i + 1)))
                    with self.lock:
                        if self._duplicate_closes > 0:
                            self._duplicate_closes -= 1
                            messages.append(messages[-1])
                i += 1
            forming_index = grid.index_of(after)
            if grid.open_time(forming_index) < after:
                messages.append(self.kline_message(symbol, interval, s.bar(forming_index, after), event_ms=after))
            for conn, ks in subs.items():
                if (symbol, interval) in ks:
                    for msg in messages:
                        out.append((conn, self.encode(conn, symbol, interval, msg)))
            sent += messages
        self.broadcast_text(out)
        return sent

    # -- control API: injected data faults ---------------------------------------------------

    def corrupt_bar(self, symbol: str, interval: str, open_time: int, **fields: Any) -> None:
        """Replaces fields of one bar wherever it is served (REST rows and WebSocket messages),
        e.g. `corrupt_bar("BTCUSDT", "1h", t, high="1.00")` (high below open), `volume="-3"`,
        `close="NaN"`. Field names: open, high, low, close, volume."""
        with self.lock:
            self._overrides.setdefault((symbol, interval, open_time), {}).update(fields)

    def duplicate_next_closes(self, count: int = 1) -> None:
        """The next `count` closing messages are each sent twice."""
        with self.lock:
            self._duplicate_closes += count

    def push_bar(self, symbol: str, interval: str, open_time: int, closed: bool = True) -> dict:
        """Sends one extra kline message now for the bar at `open_time` — an old one for an
        out-of-order or repeated bar — to that market's subscribers. Returns it."""
        s = self.series(symbol, interval)
        i = s.interval.index_of(open_time)
        bar = s.bar(i) if closed else s.bar(i, min(self.clock.now_ms(), s.interval.open_time(i + 1) - 1))
        msg = self.kline_message(symbol, interval, bar, event_ms=self.clock.now_ms())
        with self.lock:
            targets = [c for c, ks in self.subscriptions.items() if (symbol, interval) in ks]
        self.broadcast_text([(c, self.encode(c, symbol, interval, msg)) for c in targets])
        return msg

    def rest_anomaly(self, kind: str) -> None:
        """The next klines answer is spoiled once: "duplicate" repeats one row, "reverse" sends
        the rows in the wrong order."""
        if kind not in ("duplicate", "reverse"):
            raise ValueError(kind)
        with self.lock:
            self._rest_anomalies.append(kind)

    def _take_rest_anomaly(self) -> str | None:
        with self.lock:
            return self._rest_anomalies.pop(0) if self._rest_anomalies else None

    @staticmethod
    def spoil(rows: list, anomaly: str | None) -> list:
        if anomaly == "duplicate" and rows:
            k = len(rows) // 2
            return rows[:k + 1] + rows[k:]
        if anomaly == "reverse":
            return list(reversed(rows))
        return rows

    def forget(self, connection: ServerConnection) -> None:
        self.subscriptions.pop(connection, None)

    def subscribed(self, symbol: str, interval: str) -> int:
        """How many open connections follow that market."""
        with self.lock:
            return sum(1 for ks in self.subscriptions.values() if (symbol, interval) in ks)

    # -- for subclasses ----------------------------------------------------------------------

    def kline_message(self, symbol: str, interval: str, bar: Bar, event_ms: int) -> dict:
        raise NotImplementedError

    def encode(self, connection: ServerConnection, symbol: str, interval: str, message: dict) -> str:
        raise NotImplementedError
