"""Local fake exchanges (Binance spot, Bybit v5 spot) for the market-data tests; see README.md."""

from .bars import Bar, BarSeries, Interval
from .binance import FakeBinance
from .bybit import FakeBybit
from .clock import ManualClock, WallClock

__all__ = ["Bar", "BarSeries", "FakeBinance", "FakeBybit", "Interval", "ManualClock", "WallClock"]
