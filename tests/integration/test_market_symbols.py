"""Black-box tests of unified market symbols (SPEC §10): `BTC/USDT`, `BTCUSDT`, `btc-usdt` and
`BTC_USDT` name one market everywhere one is accepted — REST query and body, socket params,
klines topics, `bedrock replay --market` — and every answer, event, topic and record carries the
canonical id `BTCUSDT`. A spelling that breaks the rule is `BAD_REQUEST` naming the rule and
changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
from urllib.parse import quote

import pytest

from helpers import BEDROCK_BIN, stream_key, wait_until
from test_ledger_api import run_script, signal

SPELLINGS = ["BTC/USDT", "BTCUSDT", "btc-usdt", "BTC_USDT"]
RULE = "market must be 1-32 letters and digits with at most one separator (/ - _) between two parts"


def rest(gw, path: str, role: str = "VIEWER", method: str = "GET", body: dict | None = None):
    headers = {"Authorization": f"Bearer {gw.token(role, 'vic')}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, _, raw = gw.http(method, path, headers, data, timeout=10)
    return status, json.loads(raw) if raw else None


def call(ws, n: int, method: str, params: dict) -> dict:
    ws.send({"type": "request", "id": n, "method": method, "params": params})
    return ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == n, skip=lambda f: True)


@pytest.fixture
def market_gateway(start_gateway, tmp_path):
    """The engine off; 6 hourly BTC bars replayed with `--market btc/usdt`; signal 1 and an open
    position in BTCUSDT written as the gateway writes them (canonical id), signal 2 under `BTC/USDT`."""
    gw = start_gateway({"engine": {"strategies": []}})
    rows = [f"{1_700_000_000 + 3600 * i},{100 + i},{101 + i},{99 + i},{100.5 + i},{i + 1}" for i in range(6)]
    data = tmp_path / "bars.csv"
    data.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    r = subprocess.run([str(BEDROCK_BIN), "replay", "--data", str(data), "--market", "btc/usdt", "--interval", "1h",
                        "--speed", "0", "--redis", gw.redis_url, "--data-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert "to bedrock:stream:klines:BTCUSDT:1h" in r.stdout, r.stdout
    with gw.redis() as red:
        assert run_script(red, "record_signal", signal("BTCUSDT", "2026-01-01T00:00:00Z", 100))["id"] == 1
        # Signal 2 as an older gateway recorded it: under the event's own spelling (not migrated).
        assert run_script(red, "record_signal", signal("BTC/USDT", "2026-01-01T01:00:00Z", 101))["id"] == 2
        opened = run_script(red, "open_position", {"signal_id": 1, "market": "BTCUSDT", "side": "BUY", "size": "1",
                                                   "entry_price": "100", "commission_rate": 0.001})
        assert opened["status"] == "opened", opened
    return gw


def test_replay_publishes_under_the_canonical_id(market_gateway):
    with market_gateway.redis() as r:
        entries = r.xrange(stream_key("klines:BTCUSDT:1h"))
        keys = sorted(r.execute("KEYS", stream_key("klines:*")))
    assert keys == [stream_key("klines:BTCUSDT:1h")]
    assert len(entries) == 6
    assert {json.loads(fields["event"])["market"] for _, fields in entries} == {"BTCUSDT"}


def test_every_spelling_reads_the_same_canonical_records_over_rest_and_socket(market_gateway):
    gw = market_gateway
    ws, _ = gw.session("VIEWER", "vic")
    n = 0
    answers: dict[str, list] = {"klines": [], "positions": [], "signals": [], "estimate": []}
    try:
        for spelling in SPELLINGS:
            q = quote(spelling, safe="")
            reads = [
                ("klines", f"/v1/klines?market={q}&interval=1h", "klines.list", {"market": spelling, "interval": "1h"}),
                ("positions", f"/v1/positions?market={q}", "positions.list", {"market": spelling}),
                ("signals", f"/v1/signals?market={q}", "signals.list", {"market": spelling}),
                ("estimate", f"/v1/positions/estimate?market={q}&entry_price=100&stop_loss_price=95",
                 "positions.estimate", {"market": spelling, "entry_price": 100, "stop_loss_price": 95}),
            ]
            for name, path, method, params in reads:
                status, body = rest(gw, path)
                assert status == 200, (spelling, path, body)
                n += 1
                frame = call(ws, n, method, params)
                assert frame["type"] == "response", (spelling, method, frame)
                assert frame["result"] == body, (spelling, method)
                answers[name].append(body)
    finally:
        ws.close()
    for name, bodies in answers.items():
        assert all(b == bodies[0] for b in bodies), f"{name} differs between spellings"
    klines = answers["klines"][0]
    assert (klines["market"], klines["topic"], klines["total"]) == ("BTCUSDT", "klines:BTCUSDT:1h", 6)
    assert [p["market"] for p in answers["positions"][0]["data"]] == ["BTCUSDT"]
    assert [(s["id"], s["market"]) for s in answers["signals"][0]["data"]] == [(2, "BTC/USDT"), (1, "BTCUSDT")], \
        "a record written under an older spelling is found by every spelling too"
    # The open BTCUSDT position is found whatever the estimate's spelling.
    assert "MARKET_ALREADY_OPEN" in {r["code"] for r in answers["estimate"][0]["reasons"]}


def test_a_klines_topic_in_any_spelling_is_the_canonical_topic(market_gateway):
    gw = market_gateway
    ws, _ = gw.session("VIEWER", "vic")
    try:
        ack = gw.subscribe(ws, "klines:btc-usdt:1h", id=1)
        assert ack["type"] == "subscribed" and ack["topic"] == "klines:BTCUSDT:1h", ack
        for i, spelling in enumerate(["BTC/USDT", "BTCUSDT", "BTC_USDT"], start=2):
            again = gw.subscribe(ws, f"klines:{spelling}:1h", id=i)
            assert again["type"] == "error" and again["error_code"] == "CONFLICT", again
            assert "klines:BTCUSDT:1h" in again["message"]
        eid = gw.xadd("klines:BTCUSDT:1h", {"event_type": "kline.closed", "market": "BTCUSDT", "interval": "1h",
                                            "open_time": "2023-11-15T04:13:20Z", "open": 1, "high": 2, "low": 1,
                                            "close": 2, "volume": 1})
        event = ws.expect(lambda f: f.get("type") == "event")
        assert (event["topic"], event["id"]) == ("klines:BTCUSDT:1h", eid)
        ws.send({"type": "unsubscribe", "id": 9, "topic": "klines:BTC/USDT:1h"})
        assert ws.expect("unsubscribed")["topic"] == "klines:BTCUSDT:1h"
    finally:
        ws.close()


def test_a_spelling_that_breaks_the_rule_is_refused_and_changes_nothing(market_gateway):
    gw = market_gateway
    with gw.redis() as r:
        before = [r.execute("XLEN", stream_key(t)) for t in ("signals", "portfolio", "risk")]
    for bad in ("BTC//USDT", "BTC USDT", "BTC/USDT/X", "-BTC"):
        q = quote(bad, safe="")
        for path in (f"/v1/klines?market={q}&interval=1h", f"/v1/positions?market={q}",
                     f"/v1/positions/estimate?market={q}&entry_price=100&stop_loss_price=95"):
            status, body = rest(gw, path)
            assert status == 400 and body["error_code"] == "BAD_REQUEST", (bad, path, body)
            assert body["message"].startswith(RULE), body
        status, body = rest(gw, "/v1/signals/generate", role="TRADER", method="POST",
                            body={"market": bad, "interval": "1h"})
        assert status == 400 and body["message"].startswith(RULE), (bad, body)
        ws, _ = gw.session("VIEWER", "vic")
        try:
            refused = gw.subscribe(ws, f"klines:{bad}:1h")
            assert refused["type"] == "error" and refused["error_code"] == "BAD_REQUEST", refused
        finally:
            ws.close()
    with gw.redis() as r:
        assert [r.execute("XLEN", stream_key(t)) for t in ("signals", "portfolio", "risk")] == before


def test_signals_generate_takes_any_spelling(start_gateway):
    gw = start_gateway({"engine": {"strategies": ["sma_cross"]}})
    answers = []
    for spelling in SPELLINGS:
        status, body = rest(gw, "/v1/signals/generate", role="TRADER", method="POST",
                            body={"market": spelling, "interval": "1h"})
        assert status == 200, (spelling, body)
        answers.append(body)
    assert {a["market"] for a in answers} == {"BTCUSDT"}
    assert {a["reason"] for a in answers} == {"no bars stored for BTCUSDT 1h"}


def test_a_bridged_klines_topic_in_config_is_the_canonical_topic(start_gateway, redis_server):
    gw = start_gateway({"redis": {"pubsub_bridge": {"feed:btc": "klines:btc/usdt:1m"}}})
    ws, _ = gw.session("VIEWER", "vic")
    try:
        assert gw.subscribe(ws, "klines:BTC-USDT:1m")["topic"] == "klines:BTCUSDT:1m"
        payload = {"event_type": "kline.closed", "market": "BTCUSDT", "interval": "1m"}
        with redis_server.client() as r:
            wait_until(lambda: r.execute("PUBLISH", "feed:btc", json.dumps(payload)), 10,
                       "a subscriber to the bridged channel")
        event = ws.expect(lambda f: f.get("type") == "event", timeout=5)
        assert event["topic"] == "klines:BTCUSDT:1m" and event["data"] == payload
    finally:
        ws.close()
