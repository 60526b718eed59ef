"""Black-box tests of the ledger methods (SPEC §4-5): the real gateway on a real redis-server.

The ledger is seeded through its own Lua scripts (Sources/Bedrock/Lua): `EVAL` of
`common.lua + name.lua` with the same ARGV the Swift `Ledger` passes (docs/REDIS_LAYOUT.md).
Every read method must answer the same over REST and over the socket.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from helpers import PREFIX, REPO, RFC3339, stream_key

LUA = REPO / "Sources" / "Bedrock" / "Lua"
ERROR_KEYS = {"error_code", "message", "timestamp", "request_id"}


def run_script(r, name: str, request: dict, initial: str = "100000") -> dict:
    source = (LUA / "common.lua").read_text() + "\n" + (LUA / f"{name}.lua").read_text()
    now_ms = int(time.time() * 1000)
    now = datetime.fromtimestamp(now_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now_ms % 1000:03d}Z"
    reply = r.execute("EVAL", source, 0, PREFIX, 10000, now, now_ms, json.dumps(request), initial)
    return json.loads(reply)


def signal(market: str, bar: str, entry: float, decision: str = "APPROVED") -> dict:
    return {"strategy": "pullback", "market": market, "interval": "1h", "bar_time": bar,
            "signal_type": "PULLBACK_BUY", "side": "BUY", "entry_price": entry,
            "stop_loss_price": entry * 0.95, "profit_target_price": entry * 1.1,
            "risk_unit_r": entry * 0.05, "suggested_position_weight": 0.5, "rule_engine_score": 80,
            "ml_confidence_score": None, "llm_sentiment": None, "final_decision": decision,
            "explanation": "seeded"}


@pytest.fixture
def seeded(start_gateway):
    """A gateway with the live engine off (these tests write the ledger by hand; the engine would
    otherwise consume the kline below and mark or close positions under them).
    Records carry canonical market ids (BTCUSDT, ETHUSDT), as the gateway writes them; the reads
    below spell them BTC/USDT and ETH/USDT (SPEC §10: any spelling finds the canonical record).
    Signals 1-5 (BTC 1,3,5; ETH 2,4; 4 rejected), position 1 (BTC, closed at 105),
    position 2 (ETH, open), position 3 (BTC, open); BTC's last kline closes at 110."""
    gateway = start_gateway({"engine": {"strategies": []}})
    with gateway.redis() as r:
        for i in range(5):
            market = "BTCUSDT" if i % 2 == 0 else "ETHUSDT"
            out = run_script(r, "record_signal", signal(market, f"2026-01-01T0{i}:00:00Z", 100 + i,
                                                         "REJECTED" if i == 3 else "APPROVED"))
            assert out["status"] == "created" and out["id"] == i + 1, out
        opened = [run_script(r, "open_position", {"signal_id": sid, "market": m, "side": "BUY", "size": "10",
                                                  "entry_price": str(100 + sid - 1), "stop_loss_price": "90",
                                                  "commission_rate": 0.001, "position_weight_used": 0.5})
                  for sid, m in ((1, "BTCUSDT"), (2, "ETHUSDT"))]
        assert [o["status"] for o in opened] == ["opened", "opened"], opened
        closed = run_script(r, "close_position", {"position_id": 1, "exit_price": "105", "exit_reason": "TARGET",
                                                  "commission_rate": 0.001})
        assert closed["status"] == "closed", closed
        third = run_script(r, "open_position", {"signal_id": 3, "market": "BTCUSDT", "side": "BUY", "size": "5",
                                                "entry_price": "102", "commission_rate": 0.001})
        assert third["status"] == "opened" and third["id"] == 3, third
        r.xadd(stream_key("klines:BTCUSDT:1h"), json.dumps(
            {"event_type": "kline.closed", "schema_version": "2.0", "timestamp": "2026-01-01T05:00:00Z",
             "market": "BTCUSDT", "interval": "1h", "open_time": "2026-01-01T04:00:00Z",
             "open": 108, "high": 111, "low": 107, "close": 110, "volume": 3}))
    return gateway


def rest(gw, path: str, role: str = "VIEWER", method: str = "GET", body: dict | None = None):
    headers = {"Authorization": f"Bearer {gw.token(role)}"}
    data = b"" if method == "POST" else None  # Content-Length: 0 on a bare POST
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, _, raw = gw.http(method, path, headers, data)
    return status, json.loads(raw) if raw else None


class Socket:
    def __init__(self, gw, role: str):
        self.ws, _ = gw.session(role, f"sock-{role.lower()}")
        self.n = 0

    def call(self, method: str, params: dict | None = None) -> dict:
        self.n += 1
        self.ws.send({"type": "request", "id": self.n, "method": method, "params": params or {}})
        return self.ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == self.n,
                              skip=lambda f: True)

    def close(self):
        self.ws.close()


READS = [
    ("/v1/markets", "markets.list", {}),
    ("/v1/signals", "signals.list", {}),
    ("/v1/signals?limit=2&offset=1", "signals.list", {"limit": 2, "offset": 1}),
    ("/v1/signals?market=ETH/USDT", "signals.list", {"market": "ETH/USDT"}),
    ("/v1/signals/3", "signals.get", {"id": 3}),
    ("/v1/signals/arbiter-stats", "signals.arbiter_stats", {}),
    ("/v1/positions", "positions.list", {}),
    ("/v1/positions?status=OPEN", "positions.list", {"status": "OPEN"}),
    ("/v1/positions?market=BTC/USDT&status=CLOSED", "positions.list", {"market": "BTC/USDT", "status": "CLOSED"}),
    ("/v1/positions/2", "positions.get", {"id": "2"}),
    ("/v1/positions/estimate?signal_id=5", "positions.estimate", {"signal_id": 5}),
    ("/v1/positions/estimate?market=SOL/USDT&entry_price=20&stop_loss_price=19", "positions.estimate",
     {"market": "SOL/USDT", "entry_price": 20, "stop_loss_price": 19}),
    ("/v1/trades", "trades.list", {}),
    ("/v1/account", "account.get", {}),
    ("/v1/stats", "stats.get", {}),
    ("/v1/risk", "risk.get", {}),
]


def test_every_read_answers_the_same_over_rest_and_socket(seeded):
    sock = Socket(seeded, "VIEWER")
    try:
        for path, method, params in READS:
            status, body = rest(seeded, path)
            assert status == 200, (path, body)
            frame = sock.call(method, params)
            assert frame["type"] == "response", (method, frame)
            assert frame["result"] == body, (path, method)
    finally:
        sock.close()


def test_pages_filters_and_shapes(seeded):
    _, page = rest(seeded, "/v1/signals")
    assert (page["total"], page["page"], page["page_size"]) == (5, 1, 20)
    assert [s["id"] for s in page["data"]] == [5, 4, 3, 2, 1], "newest first"
    _, page = rest(seeded, "/v1/signals?limit=2&offset=2")
    assert (page["page"], [s["id"] for s in page["data"]]) == (2, [3, 2])
    _, page = rest(seeded, "/v1/signals?limit=1000")
    assert page["page_size"] == 100, "limit above 100 is clamped"
    _, eth = rest(seeded, "/v1/signals?market=ETH/USDT")
    assert [s["id"] for s in eth["data"]] == [4, 2]
    assert rest(seeded, "/v1/signals?market=ETH%2FUSDT")[1] == eth, "percent-encoded query values are decoded"
    sig = eth["data"][0]
    for key in ("id", "market", "interval", "signal_type", "side", "entry_price", "stop_loss_price",
                "profit_target_price", "risk_unit_r", "suggested_position_weight", "rule_engine_score",
                "ml_confidence_score", "llm_sentiment", "final_decision", "explanation", "bar_time", "created_at"):
        assert key in sig, key
    assert sig["final_decision"] == "REJECTED"
    _, stats = rest(seeded, "/v1/signals/arbiter-stats")
    assert (stats["approved"], stats["rejected"]) == (4, 1)

    _, open_ = rest(seeded, "/v1/positions?status=OPEN")
    assert [p["id"] for p in open_["data"]] == [3, 2]
    _, btc_closed = rest(seeded, "/v1/positions?market=BTC/USDT&status=closed")
    assert [p["id"] for p in btc_closed["data"]] == [1]
    assert btc_closed["data"][0]["exit_reason"] == "TARGET"
    _, trades = rest(seeded, "/v1/trades")
    assert trades["total"] == 1
    # 10 x (105 - 100) = 50 gross; commission 1.0 + 1.05
    assert trades["data"][0]["pnl"] == pytest.approx(47.95, abs=1e-9)

    _, acct = rest(seeded, "/v1/account")
    assert set(acct) >= {"balance", "available_balance", "frozen_balance", "equity", "updated_at"}
    assert acct["balance"] == pytest.approx(100000 + 50 - 1.0 - 1.05 - 1.01 - 0.51, abs=1e-9)
    assert acct["frozen_balance"] == pytest.approx(1010 + 510, abs=1e-9)
    assert acct["available_balance"] == pytest.approx(acct["balance"] - acct["frozen_balance"], abs=1e-9)
    _, st = rest(seeded, "/v1/stats")
    assert st["open_positions"] == 2 and st["win_rate"] == 100.0
    assert st["total_pnl"] == pytest.approx(47.95, abs=1e-9)
    assert {"total_pnl", "win_rate", "avg_trade_duration_s", "open_positions", "exposure"} <= set(st)
    _, markets = rest(seeded, "/v1/markets")
    assert markets["data"][0]["market"] == "BTCUSDT"
    assert markets["data"][0]["intervals"][0]["last_bar"]["close"] == 110


def assert_error(status, body, code, expected_status, field=None):
    assert status == expected_status, body
    assert set(body) == ERROR_KEYS, body
    assert body["error_code"] == code
    import re
    assert re.match(RFC3339, body["timestamp"])
    if field:
        assert field in body["message"], body


@pytest.mark.parametrize("path,code,status,field", [
    ("/v1/signals/999", "NOT_FOUND", 404, None),
    ("/v1/positions/999", "NOT_FOUND", 404, None),
    ("/v1/signals?limit=abc", "BAD_REQUEST", 400, "limit"),
    ("/v1/signals?limit=0", "BAD_REQUEST", 400, "limit"),
    ("/v1/trades?offset=-1", "BAD_REQUEST", 400, "offset"),
    ("/v1/positions?status=bogus", "BAD_REQUEST", 400, "status"),
    ("/v1/positions/estimate?market=BTC/USDT&entry_price=100", "BAD_REQUEST", 400, "stop_loss_price"),
    ("/v1/positions/estimate?signal_id=999", "NOT_FOUND", 404, None),
])
def test_error_bodies(seeded, path, code, status, field):
    assert_error(*rest(seeded, path), code, status, field)


def test_socket_errors_match(seeded):
    sock = Socket(seeded, "VIEWER")
    try:
        for method, params, code in [("signals.get", {"id": 999}, "NOT_FOUND"),
                                     ("signals.list", {"limit": "abc"}, "BAD_REQUEST"),
                                     ("positions.list", {"offset": -3}, "BAD_REQUEST")]:
            frame = sock.call(method, params)
            assert frame["type"] == "error" and frame["error_code"] == code, frame
    finally:
        sock.close()


def test_roles_on_every_write(seeded):
    for role, path, body in [("VIEWER", "/v1/positions/2/close", None),
                             ("VIEWER", "/v1/risk/kill-switch", {"enabled": True}),
                             ("TRADER", "/v1/risk/kill-switch", {"enabled": True})]:
        assert_error(*rest(seeded, path, role, "POST", body), "FORBIDDEN", 403)
    for role, method, params in [("VIEWER", "positions.close", {"id": 2}),
                                 ("VIEWER", "risk.kill_switch", {"enabled": True}),
                                 ("TRADER", "risk.kill_switch", {"enabled": True})]:
        sock = Socket(seeded, role)
        try:
            frame = sock.call(method, params)
            assert frame["type"] == "error" and frame["error_code"] == "FORBIDDEN", frame
        finally:
            sock.close()
    _, pos = rest(seeded, "/v1/positions/2")
    assert pos["status"] == "OPEN", "a forbidden close changed nothing"
    _, risk = rest(seeded, "/v1/risk")
    assert risk["kill_switch"] is False


def test_manual_close_at_last_price_then_conflict(seeded):
    status, closed = rest(seeded, "/v1/positions/3/close", "TRADER", "POST")
    assert status == 200, closed
    assert (closed["status"], closed["exit_reason"], closed["exit_price"]) == ("CLOSED", "MANUAL", 110)
    # 5 x (110 - 102) = 40 gross; commission 0.51 + 0.55
    assert closed["realized_pnl"] == pytest.approx(38.94, abs=1e-9)
    assert_error(*rest(seeded, "/v1/positions/3/close", "TRADER", "POST"), "CONFLICT", 409)
    assert_error(*rest(seeded, "/v1/positions/999/close", "TRADER", "POST"), "NOT_FOUND", 404)
    with seeded.redis() as r:
        events = [json.loads(f["event"]) for _, f in r.xrange(stream_key("portfolio"))]
    closes = [e for e in events if e["event_type"] == "position.closed" and e["position_id"] == 3]
    assert len(closes) == 1 and closes[0]["exit_reason"] == "MANUAL"
    assert closes[0]["schema_version"] == "2.0"
    # the socket sees the same conflict
    sock = Socket(seeded, "TRADER")
    try:
        frame = sock.call("positions.close", {"id": 3})
        assert frame["type"] == "error" and frame["error_code"] == "CONFLICT", frame
    finally:
        sock.close()


def test_kill_switch_toggles_risk_and_refuses_estimates(seeded):
    assert_error(*rest(seeded, "/v1/risk/kill-switch", "ADMIN", "POST", {}), "BAD_REQUEST", 400, "enabled")
    assert_error(*rest(seeded, "/v1/risk/kill-switch", "ADMIN", "POST", {"enabled": "yes"}), "BAD_REQUEST", 400,
                 "enabled")
    status, risk = rest(seeded, "/v1/risk/kill-switch", "ADMIN", "POST", {"enabled": True})
    assert status == 200 and risk["kill_switch"] is True, risk
    _, risk = rest(seeded, "/v1/risk")
    assert risk["kill_switch"] is True
    _, est = rest(seeded, "/v1/positions/estimate?market=SOL/USDT&entry_price=20&stop_loss_price=19")
    assert est["allowed"] is False
    assert "KILL_SWITCH" in [r["code"] for r in est["reasons"]]
    sock = Socket(seeded, "ADMIN")
    try:
        frame = sock.call("risk.kill_switch", {"enabled": False})
        assert frame["type"] == "response" and frame["result"]["kill_switch"] is False, frame
    finally:
        sock.close()
    _, risk = rest(seeded, "/v1/risk")
    assert risk["kill_switch"] is False
    with seeded.redis() as r:
        actions = [json.loads(f["event"])["action"] for _, f in r.xrange(stream_key("risk"))]
    assert actions == ["KILL_SWITCH_ENGAGED", "KILL_SWITCH_RELEASED"]


def test_estimate_by_params_with_a_refusal_and_by_signal(seeded):
    _, est = rest(seeded, "/v1/positions/estimate?market=BTC/USDT&entry_price=100&stop_loss_price=110"
                          "&suggested_position_weight=0.5")
    assert set(est) == {"estimated_position_size", "estimated_cost", "risk_percentage", "position_weight_used",
                        "allowed", "reasons"}
    assert est["allowed"] is False
    codes = {r["code"] for r in est["reasons"]}
    assert "MARKET_ALREADY_OPEN" in codes, est
    for r in est["reasons"]:
        assert set(r) == {"code", "message", "value", "limit"} and r["message"]
    assert est["position_weight_used"] == 0.5
    _, ok = rest(seeded, "/v1/positions/estimate?market=SOL/USDT&entry_price=20&stop_loss_price=19")
    assert ok["allowed"] is True and ok["reasons"] == []
    assert ok["position_weight_used"] is None
    assert ok["risk_percentage"] == pytest.approx(1.0, rel=1e-6), "fixed 1 % risk without a weight"
    _, by_signal = rest(seeded, "/v1/positions/estimate?signal_id=4")
    assert by_signal["position_weight_used"] == 0.5
    assert "MARKET_ALREADY_OPEN" in {r["code"] for r in by_signal["reasons"]}, "ETH/USDT has an open position"


def test_scripts_are_idempotent_from_outside(seeded):
    """Replaying the same writes changes nothing and writes no event."""
    with seeded.redis() as r:
        before = {t: len(r.xrange(stream_key(t))) for t in ("signals", "portfolio")}
        again = run_script(r, "record_signal", signal("BTCUSDT", "2026-01-01T00:00:00Z", 100))
        assert (again["status"], again["id"], again["event_id"]) == ("existing", 1, None)
        reopen = run_script(r, "open_position", {"signal_id": 1, "market": "BTCUSDT", "side": "BUY", "size": "1",
                                                 "entry_price": "100", "commission_rate": 0.001})
        assert (reopen["status"], reopen["id"]) == ("existing", 1)
        reclose = run_script(r, "close_position", {"position_id": 1, "exit_price": "1", "exit_reason": "STOP",
                                                   "commission_rate": 0.001})
        assert reclose["status"] == "already_closed"
        after = {t: len(r.xrange(stream_key(t))) for t in ("signals", "portfolio")}
    assert after == before


def test_trading_metrics_on_metrics_page(seeded):
    """/metrics carries the ledger's trading totals (refreshed off the event loop every ~2 s)."""
    text = seeded.metrics_with("bedrock_signals_generated_total 5")
    assert "bedrock_signals_approved_total 4" in text
    assert "bedrock_signals_rejected_total 1" in text
    assert "bedrock_positions_opened_total 3" in text
    assert "bedrock_positions_closed_total 1" in text
    assert "bedrock_open_exposure " in text
