"""What the black-box tests of the gateway's LLM layer (SPEC §12) share: the scripted fake model
with arrival times, the `llm.*` config that points the gateway at it, bars that make the live
engine produce one signal on a known bar, and readers for what a user sees (REST answers, socket
events, `/metrics` counters, the `news` and `risk` streams).

Deterministic signal: the engine runs `sma_cross` with fast 2 and slow 3 on a market's 1h bars.
Closes 100, 99.9, 99.8 (fast below slow) then 100.5 (fast 100.15 above slow 100.07) give one
SMA_CROSS_BUY on the fourth bar and nothing before it; every close is within 1 % of 100, so no
price move invalidates a cached sentiment. Constant closes never cross (strict comparison).
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fakes import FakeLLM
from helpers import PREFIX, REPO, stream_key, wait_until

INTERVAL = "1h"
MODEL = "test-model"
SMA = {"name": "sma_cross", "params": {"fast": 2, "slow": 3}}
ENGINE = {"engine": {"strategies": [SMA], "discover_interval_ms": 100, "lease_ms": 1000}}
WARM_UP = [100.0, 99.9, 99.8]  # fast SMA(2) below slow SMA(3) at the third bar
CROSS = 100.5  # the fourth bar: fast crosses above slow → one SMA_CROSS_BUY
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
LLM_REQUESTS = re.compile(r'^bedrock_llm_requests_total\{([^}]*)\}\s+(\S+)$')


class TimedFakeLLM(FakeLLM):
    """The fake model; each recorded request also carries `received_at` (time.monotonic())."""

    def _next_step(self, record: dict[str, Any], valid: bool):
        record["received_at"] = time.monotonic()
        return super()._next_step(record, valid)


@pytest.fixture
def llm():
    """The fake model, stopped at teardown (which also releases calls it holds with `hang`)."""
    fake = TimedFakeLLM()
    fake.start()
    yield fake
    fake.stop()


def llm_config(fake: FakeLLM, **keys: Any) -> dict:
    """Config pointing the gateway at `fake` with small windows: `llm.*` plus `keys`, and the
    engine running the deterministic `sma_cross`."""
    section = {"provider": "openai", "base_url": fake.base_url, "model": MODEL, "timeout_s": 3,
               "batch_window_s": 0.2, "prompts_dir": str(REPO / "config" / "prompts")}
    section.update(keys)
    return {**ENGINE, "llm": section}


def prompt(request: dict) -> str:
    """All message contents of a recorded chat request, joined."""
    return "\n".join(str(m.get("content", "")) for m in request["body"]["messages"])


# ---------------------------------------------------------------------------------------------
# REST and socket calls


def rest(gw, verb: str, path: str, role: str = "TRADER", body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {gw.token(role)}"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _, raw = gw.http(verb, path, headers, data)
    return status, json.loads(raw) if raw else None


def post_news(gw, market: str | None, title: str, source: str = "wire", **more: Any) -> dict:
    body = {"title": title, "source": source, **more}
    if market is not None:
        body["market"] = market
    status, answer = rest(gw, "POST", "/v1/news", "TRADER", body)
    assert status == 200, (status, answer)
    return answer


def sentiment(gw, market: str) -> dict:
    status, answer = rest(gw, "GET", f"/v1/sentiment?market={market}", "VIEWER")
    assert status == 200, (status, answer)
    return answer


def answered_sentiment(gw, market: str, timeout: float = 10) -> dict:
    """The first reading of `market` that is not a fallback (the model's answer has arrived)."""
    last: dict = {}

    def check() -> dict | None:
        nonlocal last
        last = sentiment(gw, market)
        return last if last["source"] != "fallback" else None

    return wait_until(check, timeout, f"a model answer for {market} in GET /v1/sentiment", interval=0.05,
                      seen=lambda: last)


def subscribed(gw, topic: str, role: str = "TRADER", since: str | None = None):
    ws, _ = gw.session(role, f"llm-{topic}")
    frame = gw.subscribe(ws, topic, since=since)
    assert frame["type"] == "subscribed", frame
    return ws


def events_of(ws, event_type: str, timeout: float) -> dict:
    """The next `event` frame whose data has `event_type` (others are skipped)."""
    return ws.expect(lambda f: f.get("type") == "event" and f["data"].get("event_type") == event_type,
                     timeout=timeout, skip=lambda f: True)


def stream(gw, topic: str) -> list[tuple[str, dict]]:
    with gw.redis() as r:
        return [(eid, json.loads(f["event"])) for eid, f in r.xrange(stream_key(topic))]


def headlines(gw) -> list[tuple[str, dict]]:
    """The `news.published` entries of the `news` stream (which also carries `sentiment.updated`)."""
    return [(eid, e) for eid, e in stream(gw, "news") if e.get("event_type") == "news.published"]


def llm_alerts(gw) -> list[dict]:
    return [e for _, e in stream(gw, "risk") if e.get("action") == "LLM_UNAVAILABLE"]


def llm_counts(gw) -> dict[tuple[str, str], float]:
    """`bedrock_llm_requests_total` by (task, outcome) from `/metrics`."""
    status, _, raw = gw.http("GET", "/metrics")
    assert status == 200, raw
    out = {}
    for line in raw.decode().splitlines():
        m = LLM_REQUESTS.match(line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            out[(labels.get("task"), labels.get("outcome"))] = float(m.group(2))
    return out


def wait_counted(gw, task: str, outcome: str, at_least: int = 1, timeout: float = 10) -> dict:
    """`/metrics` once `bedrock_llm_requests_total{task,outcome}` reaches `at_least`."""
    return wait_until(lambda: (c := llm_counts(gw)).get((task, outcome), 0) >= at_least and c, timeout,
                      f"bedrock_llm_requests_total{{task={task!r},outcome={outcome!r}}} >= {at_least}",
                      interval=0.1, seen=lambda: llm_counts(gw))


# ---------------------------------------------------------------------------------------------
# bars


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def kline(market: str, n: int, close: float, open_: float | None = None) -> dict:
    """The `kline.closed` event of `market`'s n-th 1h bar (from 2026-01-01T00:00Z)."""
    t = START + timedelta(hours=n)
    o = close if open_ is None else open_
    return {"event_type": "kline.closed", "schema_version": "2.0", "timestamp": iso(t + timedelta(hours=1)),
            "market": market, "interval": INTERVAL, "open_time": iso(t), "open": o, "high": max(o, close),
            "low": min(o, close), "close": close, "volume": 1}


def add_bar(gw, market: str, n: int, close: float, open_: float | None = None) -> str:
    return gw.xadd(f"klines:{market}:{INTERVAL}", kline(market, n, close, open_))


def engine_read(gw, market: str) -> int:
    """How many bars of `market`'s 1h stream the engine has read and acknowledged (0 before)."""
    with gw.redis() as r:
        try:
            groups = r.execute("XINFO", "GROUPS", stream_key(f"klines:{market}:{INTERVAL}"))
        except Exception:  # noqa: BLE001 - no stream yet
            return 0
    for g in groups:
        info = {g[i]: g[i + 1] for i in range(0, len(g), 2)}
        if info.get("name") == f"{PREFIX}engine":
            return int(info.get("entries-read") or 0) if int(info["pending"]) == 0 else 0
    return 0


def feed(gw, market: str, closes: list[float], first: int = 0) -> None:
    """Appends bars `first`.. with these closes and waits until the engine has processed them."""
    for i, close in enumerate(closes):
        add_bar(gw, market, first + i, close)
    total = first + len(closes)
    wait_until(lambda: engine_read(gw, market) >= total, 30, f"the engine to process {total} {market} bars",
               interval=0.05, seen=lambda: engine_read(gw, market))


def key_windows(key: str, width: int = 12) -> list[str]:
    """Every `width`-character piece of `key`: finding one in a text is a (partial) leak."""
    return [key[i:i + width] for i in range(len(key) - width + 1)]
