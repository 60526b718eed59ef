"""Black-box test of `GET /v1/klines` / socket `klines.list` (issue 6): a market's latest bars from
its klines stream, oldest first, as the dashboard's market chart loads them before following the
`klines:{MARKET}:{INTERVAL}` topic live."""

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
    for bad in ("market=BTCUSDT", "market=btc%2Fusdt&interval=1h", "market=BTCUSDT&interval=1h&limit=0",
                "market=BTCUSDT&interval=1h&limit=2001"):
        status, error = get(gw, f"/v1/klines?{bad}")
        assert status == 400 and error["error_code"] == "BAD_REQUEST", (bad, error)
