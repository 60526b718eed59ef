"""Black-box test of `GET /v1/klines` / socket `klines.list`: a market's bars from its klines
stream, oldest first — the latest ones, as the dashboard's market chart loads them before following
the `klines:{MARKET}:{INTERVAL}` topic live, or a range by open time (SPEC §10)."""

from __future__ import annotations

import json
import os
import subprocess

from helpers import BEDROCK_BIN


def get(gw, path: str, role: str = "VIEWER"):
    status, _, raw = gw.http("GET", path, {"Authorization": f"Bearer {gw.token(role, 'vic')}"}, None, timeout=10)
    return status, json.loads(raw) if raw else None


def test_latest_bars_over_rest_and_the_socket(start_gateway, tmp_path):
    gw = start_gateway({"engine": {"strategies": []}})
    rows = [f"{1_700_000_000 + 3600 * i},{100 + i},{101 + i},{99 + i},{100.5 + i},{i + 1}" for i in range(30)]
    data = tmp_path / "bars.csv"
    data.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    r = subprocess.run([str(BEDROCK_BIN), "replay", "--data", str(data), "--market", "BTCUSDT", "--interval", "1h",
                        "--speed", "0", "--redis", gw.redis_url, "--data-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr

    status, answer = get(gw, "/v1/klines?market=BTCUSDT&interval=1h&limit=5")
    assert status == 200, answer
    assert answer["topic"] == "klines:BTCUSDT:1h" and answer["total"] == 5 and answer["last_id"]
    assert [b["close"] for b in answer["data"]] == [125.5, 126.5, 127.5, 128.5, 129.5]
    assert answer["data"][-1]["open_time"] == "2023-11-16T03:13:20Z"
    assert set(answer["data"][0]) == {"open_time", "open", "high", "low", "close", "volume"}

    status, everything = get(gw, "/v1/klines?market=BTCUSDT&interval=1h")
    assert status == 200 and everything["total"] == 30

    ws, _ = gw.session("VIEWER", "vic")
    ws.send({"type": "request", "id": 1, "method": "klines.list", "params": {"market": "BTCUSDT", "interval": "1h", "limit": 5}})
    frame = ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == 1, skip=lambda f: True)
    assert frame["type"] == "response", frame
    assert frame["result"] == answer
    ws.close()

    status, none = get(gw, "/v1/klines?market=ETHUSDT&interval=1h")
    assert status == 200 and none["data"] == [] and none["last_id"] is None
    for bad, message in (("market=BTCUSDT", "interval is required"), ("interval=1h", "market is required"),
                         ("market=BTC%2F%2FUSDT&interval=1h", "market must be 1-32 letters"),
                         ("market=BTCUSDT&interval=7h", "interval must be one of 12h, 15m, 1M, 1d"),
                         ("market=BTCUSDT&interval=1h&limit=0", "limit must be a whole number from 1 to 5000"),
                         ("market=BTCUSDT&interval=1h&limit=5001", "limit must be a whole number from 1 to 5000"),
                         ("market=BTCUSDT&interval=1h&start=yesterday", "start must be an RFC 3339 time"),
                         ("market=BTCUSDT&interval=1h&end=2023-13-45T00:00:00Z", "end must be an RFC 3339 time"),
                         ("market=BTCUSDT&interval=1h&start=1700000000001&end=1700000000000",
                          "end must not be before start")):
        status, error = get(gw, f"/v1/klines?{bad}")
        assert status == 400 and error["error_code"] == "BAD_REQUEST", (bad, error)
        assert error["message"].startswith(message), (bad, error)


def test_a_range_by_open_time_in_any_market_spelling(start_gateway, tmp_path):
    """`start`/`end` (RFC 3339 or epoch ms) are inclusive on the bar's open time; `start` pages
    forward from it, `end` alone answers the newest bars up to it."""
    gw = start_gateway({"engine": {"strategies": []}})
    t0 = 1_700_000_000  # 2023-11-14T22:13:20Z
    rows = [f"{t0 + 3600 * i},{100 + i},{101 + i},{99 + i},{100.5 + i},{i + 1}" for i in range(2000)]
    data = tmp_path / "bars.csv"
    data.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    r = subprocess.run([str(BEDROCK_BIN), "replay", "--data", str(data), "--market", "BTC_USDT", "--interval", "1h",
                        "--speed", "0", "--redis", gw.redis_url, "--data-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr

    def opens(answer):
        return [b["open_time"] for b in answer["data"]]

    status, page = get(gw, "/v1/klines?market=btc-usdt&interval=1h&start=2023-11-15T00:13:20Z&limit=3")
    assert status == 200, page
    assert (page["market"], page["topic"]) == ("BTCUSDT", "klines:BTCUSDT:1h")
    assert opens(page) == ["2023-11-15T00:13:20Z", "2023-11-15T01:13:20Z", "2023-11-15T02:13:20Z"]
    start_ms, end_ms = (t0 + 3600 * 1000) * 1000, (t0 + 3600 * 1004) * 1000
    status, both = get(gw, f"/v1/klines?market=BTC%2FUSDT&interval=1h&start={start_ms}&end={end_ms}")
    assert status == 200 and both["total"] == 5 and [b["close"] for b in both["data"]] == [1100.5 + i for i in range(5)]
    status, newest = get(gw, f"/v1/klines?market=BTCUSDT&interval=1h&end={end_ms - 1}&limit=2")
    assert [b["close"] for b in newest["data"]] == [1102.5, 1103.5]
    status, default = get(gw, "/v1/klines?market=BTCUSDT&interval=1h")
    assert default["total"] == 500 and default["data"][-1]["close"] == 2099.5, "the newest 500 bars by default"
    status, everything = get(gw, "/v1/klines?market=BTCUSDT&interval=1h&limit=5000")
    assert everything["total"] == 2000 and everything["data"][0]["close"] == 100.5
    status, none = get(gw, "/v1/klines?market=BTCUSDT&interval=1h&start=2030-01-01T00:00:00Z")
    assert status == 200 and none["total"] == 0 and none["data"] == []

    ws, _ = gw.session("VIEWER", "vic")
    ws.send({"type": "request", "id": 7, "method": "klines.list",
             "params": {"market": "BTC/USDT", "interval": "1h", "start": start_ms, "end": end_ms}})
    frame = ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == 7, skip=lambda f: True)
    assert frame["type"] == "response" and frame["result"] == both, frame
    ws.send({"type": "request", "id": 8, "method": "klines.list",
             "params": {"market": "BTCUSDT", "interval": "1h", "limit": 5001}})
    frame = ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == 8, skip=lambda f: True)
    assert frame["type"] == "error" and frame["error_code"] == "BAD_REQUEST", frame
    ws.close()
