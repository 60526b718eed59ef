"""Black-box tests of manual entry (SPEC §15 `positions.open`, docs/HTTP.md): a TRADER opens a
paper position at the market's latest price, sized like `positions.estimate` and checked by the
risk guard; the position records `opened_by` (the token's sub) and no signal, and is then managed
by the live engine's exits like any other position (`closed_by: engine`), or closed by hand
(`closed_by`: the closer's sub).

Each gateway runs the live engine (its default strategies need ~50 bars before any signal, so the
two or three bars written here never make one) on a fresh redis-server; the latest price comes from
a `kline.closed` appended to the market's klines stream, as the market-data workers write them.
"""

from __future__ import annotations

import json

import pytest

from helpers import PREFIX, stream_key, wait_until
from test_engine import wait_processed
from test_ledger_api import Socket, rest

FAST = {"engine": {"discover_interval_ms": 100, "claim_idle_ms": 500, "lease_ms": 1000}}


def kline(market: str, hour: int, open_: float, high: float, low: float, close: float) -> dict:
    return {"event_type": "kline.closed", "schema_version": "2.0", "timestamp": f"2026-01-01T{hour + 1:02d}:00:00Z",
            "market": market, "interval": "1h", "open_time": f"2026-01-01T{hour:02d}:00:00Z",
            "open": open_, "high": high, "low": low, "close": close, "volume": 3}


@pytest.fixture
def gw(start_gateway):
    """A gateway whose BTCUSDT last closed at 100 and ETHUSDT at 50; no other market has a bar."""
    gateway = start_gateway(FAST)
    gateway.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 0, 99, 101, 98, 100))
    gateway.xadd("klines:ETHUSDT:1h", kline("ETHUSDT", 0, 49, 51, 48, 50))
    return gateway


def open_position(gw, body: dict, sub: str = "carol", role: str = "TRADER"):
    headers = {"Authorization": f"Bearer {gw.token(role, sub)}", "Content-Type": "application/json"}
    status, _, raw = gw.http("POST", "/v1/positions/open", headers, json.dumps(body).encode())
    return status, json.loads(raw) if raw else None


def position_count(gw) -> int:
    status, body = rest(gw, "/v1/positions")
    assert status == 200, body
    return body["total"]


def portfolio_events(gw) -> list[dict]:
    with gw.redis() as r:
        return [json.loads(f["event"]) for _, f in r.xrange(stream_key("portfolio"))]


def test_roles_and_bad_input_are_refused_and_write_nothing(gw):
    good = {"market": "BTC/USDT", "side": "BUY", "stop_loss_price": 95}
    status, _, raw = gw.http("POST", "/v1/positions/open", {"Content-Type": "application/json"},
                             json.dumps(good).encode())
    assert status == 401 and json.loads(raw)["error_code"] == "UNAUTHENTICATED"
    status, body = open_position(gw, good, role="VIEWER")
    assert status == 403 and body["error_code"] == "FORBIDDEN", body

    cases = [
        ({"side": "BUY", "stop_loss_price": 95}, 400, "market"),
        ({"market": "BTC USDT!", "side": "BUY", "stop_loss_price": 95}, 400, "market"),
        ({"market": "BTCUSDT", "stop_loss_price": 95}, 400, "side"),
        ({"market": "BTCUSDT", "side": "HOLD", "stop_loss_price": 95}, 400, "side"),
        ({"market": "BTCUSDT", "side": "BUY"}, 400, "stop_loss_price"),
        ({**good, "size": 1, "weight": 0.5}, 400, "size and weight"),
        ({**good, "size": -2}, 400, "size"),
        ({**good, "weight": 1.5}, 400, "weight"),
        ({**good, "stop_loss_price": 101}, 400, "stop_loss_price"),
        ({**good, "profit_target_price": 90}, 400, "profit_target_price"),
        ({"market": "SOLUSDT", "side": "BUY", "stop_loss_price": 95}, 409, "SOLUSDT"),
        ({**good, "size": 1_000_000}, 409, "MAX_EXPOSURE"),  # 100,000,000 of notional on 100,000 of equity
    ]
    for body, want, field in cases:
        status, answer = open_position(gw, body)
        assert status == want, (body, status, answer)
        assert answer["error_code"] == ("BAD_REQUEST" if want == 400 else "CONFLICT"), answer
        assert field in answer["message"], (body, answer)
    assert position_count(gw) == 0
    assert portfolio_events(gw) == []


def test_a_manual_open_records_its_caller_and_no_signal(gw):
    body = {"market": "BTC/USDT", "side": "BUY", "weight": 0.5, "stop_loss_price": 95, "profit_target_price": 120}
    status, estimate = rest(gw, "/v1/positions/estimate?market=BTCUSDT&entry_price=100&stop_loss_price=95"
                                "&profit_target_price=120&suggested_position_weight=0.5")
    assert status == 200 and estimate["allowed"], estimate
    sock = Socket(gw, "TRADER")
    try:
        sock.ws.send({"type": "subscribe", "id": 900, "topic": "portfolio", "since": "0"})
        sock.ws.expect(lambda f: f.get("type") == "subscribed" and f.get("id") == 900)
        status, opened = open_position(gw, body, sub="carol")
        assert status == 200, opened
        assert opened["opened_by"] == "carol" and opened["signal_id"] is None, opened
        assert opened["closed_by"] is None and opened["status"] == "OPEN"
        assert opened["market"] == "BTCUSDT" and opened["side"] == "BUY"
        assert opened["entry_price"] == 100 and opened["stop_loss_price"] == 95
        assert opened["profit_target_price"] == 120 and opened["position_weight_used"] == 0.5
        assert opened["position_size"] == pytest.approx(estimate["estimated_position_size"], abs=1e-8)
        with gw.redis() as r:  # the bar that priced it is its engine mark (docs/REDIS_LAYOUT.md)
            assert r.execute("HEXISTS", f"{PREFIX}engine:position_marks", opened["id"]) == 1
        status, stored = rest(gw, f"/v1/positions/{opened['id']}")
        assert status == 200 and stored["opened_by"] == "carol" and stored["signal_id"] is None, stored
        event = sock.ws.expect(lambda f: f.get("type") == "event" and f["data"].get("action") == "POSITION_OPENED",
                               skip=lambda f: True)
        assert event["topic"] == "portfolio"
        assert event["data"]["position_id"] == opened["id"]
        assert event["data"]["opened_by"] == "carol" and event["data"]["signal_id"] is None, event

        status, refused = open_position(gw, {**body, "weight": 0.1}, sub="carol")
        assert status == 409 and refused["error_code"] == "CONFLICT", refused
        assert "MARKET_ALREADY_OPEN" in [r["code"] for r in refused["details"]["reasons"]], refused
        assert "already open" in refused["message"]
        assert position_count(gw) == 1

        status, closed = rest(gw, f"/v1/positions/{opened['id']}/close", role="TRADER", method="POST")
        assert status == 200, closed
        assert closed["status"] == "CLOSED" and closed["exit_reason"] == "MANUAL"
        assert closed["opened_by"] == "carol"
        assert closed["closed_by"] == "alice", "rest() signs as the default sub"
        with gw.redis() as r:  # a closed position leaves no engine mark behind
            assert r.execute("HEXISTS", f"{PREFIX}engine:position_marks", opened["id"]) == 0
        event = sock.ws.expect(lambda f: f.get("type") == "event" and f["data"].get("event_type") == "position.closed",
                               skip=lambda f: True)
        assert event["data"]["closed_by"] == "alice", event
    finally:
        sock.close()


def test_the_kill_switch_refuses_with_its_reason_on_both_transports(gw):
    status, risk = rest(gw, "/v1/risk/kill-switch", role="ADMIN", method="POST", body={"enabled": True})
    assert status == 200 and risk["kill_switch"] is True, risk
    body = {"market": "BTCUSDT", "side": "SELL", "size": 1, "stop_loss_price": 105}
    status, refused = open_position(gw, body)
    assert status == 409 and refused["error_code"] == "CONFLICT", refused
    assert set(refused) >= {"error_code", "message", "timestamp", "request_id", "details"}
    reasons = refused["details"]["reasons"]
    assert [r["code"] for r in reasons] == ["KILL_SWITCH"], reasons
    assert reasons[0]["message"] == "the kill switch is engaged" and "kill switch" in refused["message"]
    sock = Socket(gw, "TRADER")
    try:
        frame = sock.call("positions.open", body)
        assert frame["type"] == "error" and frame["error_code"] == "CONFLICT", frame
        assert [r["code"] for r in frame["details"]["reasons"]] == ["KILL_SWITCH"], frame
    finally:
        sock.close()
    assert position_count(gw) == 0
    assert portfolio_events(gw) == []
    # SPEC §8: each breach emits risk.alert, a manual entry's too (one per refused call).
    with gw.redis() as r:
        alerts = [json.loads(f["event"]) for _, f in r.xrange(stream_key("risk"))]
    refused_alerts = [a for a in alerts if a.get("action") == "ENTRY_REFUSED"]
    assert len(refused_alerts) == 2 and all(a["market"] == "BTCUSDT" and a["signal_id"] is None for a in refused_alerts)
    assert [r["code"] for r in refused_alerts[0]["reasons"]] == ["KILL_SWITCH"]


def test_the_engine_exits_manual_positions_by_stop_and_by_target(gw):
    status, long = open_position(gw, {"market": "BTCUSDT", "side": "BUY", "size": 2, "stop_loss_price": 95,
                                      "profit_target_price": 120})
    assert status == 200 and long["signal_id"] is None, long
    status, short = open_position(gw, {"market": "ETHUSDT", "side": "SELL", "weight": 0.2, "stop_loss_price": 55,
                                       "profit_target_price": 40}, sub="erin")
    assert status == 200 and short["opened_by"] == "erin", short
    gw.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 1, 100, 106, 99, 104))  # 1R (5) in favour: armed, marked

    def position(pid: int) -> dict:
        status, p = rest(gw, f"/v1/positions/{pid}")
        assert status == 200, p
        return p

    def closed(pid: int) -> dict | None:
        p = position(pid)
        return p if p["status"] == "CLOSED" else None

    marked = wait_until(lambda: (p := position(long["id"]))["current_price"] == 104 and p, 30,
                        "the engine to mark the manual BUY", seen=gw.log_text)
    assert marked["status"] == "OPEN" and marked["trailing_armed"] is True, marked
    assert marked["stop_loss_price"] == 95 and marked["trailing_stop_price"] is None, "no ATR distance: no trail"
    gw.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 2, 99, 100, 94, 96))  # trades through the stop at 95
    gw.xadd("klines:ETHUSDT:1h", kline("ETHUSDT", 1, 49, 50, 39, 41))  # reaches the target at 40

    stopped = wait_until(lambda: closed(long["id"]), 30, "the engine to stop out the manual BUY",
                         seen=gw.log_text)
    assert stopped["exit_reason"] == "STOP_LOSS" and stopped["exit_price"] == 95, stopped
    assert stopped["closed_by"] == "engine" and stopped["opened_by"] == "carol", stopped
    taken = wait_until(lambda: closed(short["id"]), 30, "the engine to take the manual SELL's profit",
                       seen=gw.log_text)
    assert taken["exit_reason"] == "PROFIT_TARGET" and taken["exit_price"] == 40, taken
    assert taken["closed_by"] == "engine" and taken["realized_pnl"] > 0, taken
    events = [e for e in portfolio_events(gw) if e["event_type"] == "position.closed"]
    assert sorted((e["position_id"], e["closed_by"]) for e in events) == [(long["id"], "engine"),
                                                                          (short["id"], "engine")]


def test_the_bar_that_priced_the_entry_never_exits_it(start_gateway):
    """An entry priced from a bar the engine has not processed yet (here: no engine ran until the
    open) is checked only against later bars: that bar's low, below the new stop, came before the
    entry."""
    quiet = start_gateway({"engine": {"strategies": []}})
    quiet.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 0, 99, 101, 90, 100))
    status, pos = open_position(quiet, {"market": "BTCUSDT", "side": "BUY", "size": 1, "stop_loss_price": 95})
    assert status == 200, pos
    engine = start_gateway(FAST)
    wait_processed(engine, 1)
    status, still = rest(engine, f"/v1/positions/{pos['id']}")
    assert status == 200 and still["status"] == "OPEN" and still["closed_by"] is None, still
    engine.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 1, 99, 100, 94, 96))
    wait_processed(engine, 2)
    status, stopped = rest(engine, f"/v1/positions/{pos['id']}")
    assert status == 200 and stopped["status"] == "CLOSED", stopped
    assert stopped["exit_reason"] == "STOP_LOSS" and stopped["closed_by"] == "engine", stopped
