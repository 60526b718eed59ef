"""Local fake exchanges (Binance spot, Bybit v5 spot) for the market-data tests and a fake
OpenAI-compatible LLM server (llm.py), a webhook receiver (webhook.py) and a Telegram Bot API
stand-in (telegram.py); see README.md."""

from .bars import Bar, BarSeries, Interval
from .binance import FakeBinance
from .bybit import FakeBybit
from .clock import ManualClock, WallClock
from .llm import FakeLLM
from .telegram import FakeTelegram
from .webhook import WebhookReceiver

__all__ = ["Bar", "BarSeries", "FakeBinance", "FakeBybit", "FakeLLM", "FakeTelegram", "Interval", "ManualClock", "WallClock",
           "WebhookReceiver"]
