"""Deterministic synthetic bars shared by the fake exchanges.

A `BarSeries` is keyed by (seed, symbol, interval): the same key always gives the same bars, on
any machine and in any process. Prices follow a smooth seeded curve with seeded per-point noise,
so a bar's close is exactly the next bar's open and high >= max(open, close) >= min(open, close)
>= low > 0. The forming (not yet closed) bar is a deterministic partial of its final values, equal
to them once the bar closes.
"""

from __future__ import annotations

import calendar
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
# 1970-01-01 was a Thursday; exchanges start weeks on Monday (1970-01-05).
WEEK_OFFSET = 4 * DAY

PRICE_Q = Decimal("0.01")
QTY_Q = Decimal("0.000001")


class Interval:
    """A bar grid: fixed-length intervals aligned to the epoch, Monday weeks, or calendar months."""

    def __init__(self, length_ms: int | None = None, *, weekly: bool = False, monthly: bool = False):
        self.length_ms = length_ms
        self.weekly = weekly
        self.monthly = monthly

    def index_of(self, t_ms: int) -> int:
        """Index of the bar containing `t_ms`."""
        if self.monthly:
            d = datetime.fromtimestamp(t_ms / 1000, tz=timezone.utc)
            return (d.year - 1970) * 12 + d.month - 1
        if self.weekly:
            return (t_ms - WEEK_OFFSET) // WEEK
        return t_ms // self.length_ms

    def open_time(self, index: int) -> int:
        """Open time (ms) of bar `index`."""
        if self.monthly:
            year, month = 1970 + index // 12, index % 12 + 1
            return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
        if self.weekly:
            return index * WEEK + WEEK_OFFSET
        return index * self.length_ms

    def floor(self, t_ms: int) -> int:
        return self.open_time(self.index_of(t_ms))


@dataclass(frozen=True)
class Bar:
    """One bar's values. `close_time` is the last millisecond of the bar (next open - 1)."""

    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    taker_buy_volume: Decimal
    taker_buy_quote_volume: Decimal
    first_trade_id: int
    closed: bool

    @property
    def last_trade_id(self) -> int:
        return self.first_trade_id + self.trades - 1 if self.trades else -1


def _q(x: float | Decimal, q: Decimal) -> Decimal:
    return Decimal(str(x)).quantize(q, rounding=ROUND_HALF_UP)


def _key_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class BarSeries:
    """The bars of one (seed, symbol, interval); `bar(i)` is O(1) and needs no history."""

    def __init__(self, seed: int, symbol: str, interval_name: str, interval: Interval):
        self.key = f"{seed}|{symbol}|{interval_name}"
        self.interval = interval
        r = random.Random(self.key)
        # Same base price for a symbol whatever the interval, so BTCUSDT looks like one market.
        base_rng = random.Random(f"{seed}|{symbol}")
        self.base = 20_000 + base_rng.random() * 40_000 if symbol.startswith("BTC") else 500 + base_rng.random() * 3_000
        self.phases = [r.random() * 2 * math.pi for _ in range(3)]

    def price_at(self, t_ms: int) -> Decimal:
        """The synthetic price at a bar boundary `t_ms` (seeded curve plus seeded point noise)."""
        a, b, c = self.phases
        x = (0.08 * math.sin(2 * math.pi * t_ms / (29 * DAY) + a)
             + 0.03 * math.sin(2 * math.pi * t_ms / (31 * HOUR) + b)
             + 0.01 * math.sin(2 * math.pi * t_ms / (97 * MINUTE) + c))
        noise = random.Random(_key_int(f"{self.key}|p|{t_ms}")).gauss(0, 0.002)
        return _q(self.base * math.exp(x + noise), PRICE_Q)

    def bar(self, index: int, now_ms: int | None = None) -> Bar:
        """Bar `index`; with `now_ms` inside it, the forming partial as of `now_ms`."""
        open_time = self.interval.open_time(index)
        next_open = self.interval.open_time(index + 1)
        o = self.price_at(open_time)
        c = self.price_at(next_open)
        r = random.Random(_key_int(f"{self.key}|b|{open_time}"))
        h = _q(max(o, c) * Decimal(str(1 + r.random() * 0.004)), PRICE_Q)
        lo = _q(min(o, c) * Decimal(str(1 - r.random() * 0.004)), PRICE_Q)
        v = _q(1 + r.random() * 50, QTY_Q)
        n = 10 + int(r.random() * 990)
        taker_share = Decimal(str(0.3 + r.random() * 0.4))
        first_id = _key_int(f"{self.key}|t|{open_time}") % 1_000_000_000
        closed = now_ms is None or now_ms >= next_open
        if not closed:
            f = Decimal(max(0, now_ms - open_time)) / Decimal(next_open - open_time)
            c_p = _q(o + (c - o) * f, PRICE_Q)
            h = _q(max(o, c_p) + (h - max(o, c)) * f, PRICE_Q)
            lo = _q(min(o, c_p) - (min(o, c) - lo) * f, PRICE_Q)
            c = c_p
            v = _q(v * f, QTY_Q)
            n = int(n * f)
        mid = (o + c + h + lo) / 4
        qv = _q(v * mid, QTY_Q)
        tb = _q(v * taker_share, QTY_Q)
        tq = _q(tb * mid, QTY_Q)
        return Bar(open_time, next_open - 1, o, h, lo, c, v, qv, n, tb, tq, first_id, closed)


def fixed(d: Decimal, places: int = 8) -> str:
    """Binance style: a fixed number of decimals ("42477.80000000")."""
    return f"{d:.{places}f}"


def plain(d: Decimal) -> str:
    """Bybit style: no trailing zeros ("17071.5", "268611")."""
    return format(d.normalize(), "f")
