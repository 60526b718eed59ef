"""Black-box tests of the ledger's filtered lists, CSV exports and trade analytics: the real
gateway on a real redis-server, the ledger written by its own Lua scripts (as test_ledger_api.py
does) at chosen times, so records spread over several days.

Every filtered answer is checked against the unfiltered list filtered here in Python; every
analytics sum against the trade list's sums with `decimal` (exactly); every CSV export with
Python's `csv` module against the list total for the same filters.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from helpers import PREFIX, REPO

LUA = REPO / "Sources" / "Bedrock" / "Lua"
BASE = 1767225600000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000
STRATEGIES = ["pullback", "oops", "sma_cross"]
MARKETS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
REASONS = ["STOP_LOSS", "TARGET", "TRAILING_STOP", "MANUAL"]


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def millis(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class Scripts:
    """The ledger's Lua scripts, loaded once, run with an injected time (ARGV as `Ledger.run`)."""

    def __init__(self, r):
        self.r = r
        self.sha = {}

    def args(self, name: str, request: dict, now_ms: int) -> tuple:
        if name not in self.sha:
            source = (LUA / "common.lua").read_text() + "\n" + (LUA / f"{name}.lua").read_text()
            self.sha[name] = self.r.execute("SCRIPT", "LOAD", source)
        return ("EVALSHA", self.sha[name], 0, PREFIX, 10000, rfc3339(now_ms), now_ms, json.dumps(request), "100000")

    def run(self, name: str, request: dict, now_ms: int) -> dict:
        return json.loads(self.r.execute(*self.args(name, request, now_ms)))


def signal_request(i: int, strategy: str, market: str, bar_ms: int) -> dict:
    side = "BUY" if i % 4 < 2 else "SELL"
    entry = 100 + i
    return {"strategy": strategy, "market": market, "interval": "1h" if i % 2 == 0 else "4h",
            "bar_time": rfc3339(bar_ms), "signal_type": "PULLBACK_BUY" if side == "BUY" else "OOPS_SELL",
            "side": side, "entry_price": entry, "stop_loss_price": entry * 0.95, "profit_target_price": entry * 1.1,
            "risk_unit_r": entry * 0.05, "suggested_position_weight": 0.5, "rule_engine_score": 80,
            "ml_confidence_score": None, "llm_sentiment": None,
            "final_decision": "REJECTED" if i % 5 == 4 else "APPROVED",
            "explanation": f'rule score {i}, "strong" trend\nsecond line'}


@pytest.fixture
def ledger(start_gateway):
    """24 signals over six days (3 strategies, 3 markets, 1h/4h, BUY/SELL, every fifth REJECTED);
    the approved among the first 18 opened and closed at once with varied durations and exit
    reasons (so close order differs from id order); two manual positions (no signal) closed;
    two positions left open."""
    gw = start_gateway({"engine": {"strategies": []}})
    with gw.redis() as r:
        s = Scripts(r)
        for i in range(24):
            out = s.run("record_signal", signal_request(i, STRATEGIES[i % 3], MARKETS[(i // 3) % 3], BASE + i * 6 * HOUR),
                        BASE + i * 6 * HOUR + 60_000)
            assert out["status"] == "created", out
        for i in range(18):
            if i % 5 == 4:
                continue
            req = signal_request(i, "", MARKETS[(i // 3) % 3], 0)
            opened_ms = BASE + i * 6 * HOUR + HOUR
            pos = s.run("open_position", {"signal_id": i + 1, "market": req["market"], "side": req["side"],
                                          "size": "1.5", "entry_price": f"{100 + i}.125", "stop_loss_price": "50",
                                          "commission_rate": 0.001}, opened_ms)
            assert pos["status"] == "opened", pos
            exit_price = f"{(100 + i) * (1 + ((i % 7) - 3) / 100):.4f}"
            out = s.run("close_position", {"position_id": pos["id"], "exit_price": exit_price,
                                           "exit_reason": REASONS[i % 4], "commission_rate": 0.001},
                        opened_ms + ((i * 7) % 5 + 1) * 5 * HOUR)
            assert out["status"] == "closed", out
        for k, price in enumerate(("99.5", "103.25")):
            opened_ms = BASE + (100 + k) * HOUR
            pos = s.run("open_position", {"signal_id": None, "market": "BTCUSDT", "side": "BUY", "size": "2",
                                          "entry_price": "100", "commission_rate": 0.001}, opened_ms)
            assert pos["status"] == "opened", pos
            s.run("close_position", {"position_id": pos["id"], "exit_price": price, "exit_reason": "MANUAL",
                                     "commission_rate": 0.001}, opened_ms + 30 * 60_000)
        for sid in (21, 22):
            m = MARKETS[((sid - 1) // 3) % 3]
            pos = s.run("open_position", {"signal_id": sid, "market": m, "side": "BUY", "size": "1",
                                          "entry_price": "100", "commission_rate": 0.001}, BASE + 150 * HOUR)
            assert pos["status"] == "opened", pos
    return gw


def get(gw, path: str, params: dict | None = None, role: str | None = "VIEWER"):
    if params:
        path += "?" + urlencode(params)
    headers = {"Authorization": f"Bearer {gw.token(role)}"} if role else {}
    return gw.http("GET", path, headers)


def get_json(gw, path: str, params: dict | None = None, role: str | None = "VIEWER"):
    status, _, raw = get(gw, path, params, role)
    return status, json.loads(raw, parse_float=Decimal) if raw else None


def everything(gw, path: str, params: dict | None = None) -> tuple[int, list[dict]]:
    """All rows of a list, page by page: (total, rows)."""
    rows, offset = [], 0
    while True:
        status, page = get_json(gw, path, {**(params or {}), "limit": 100, "offset": offset})
        assert status == 200, page
        rows += page["data"]
        offset += 100
        if offset >= page["total"]:
            return page["total"], rows


def matches(row: dict, f: dict, time_field: str) -> bool:
    for key, want in f.items():
        if key in ("from", "to"):
            continue
        if str(row.get(key)).upper().replace("/", "") != str(want).upper().replace("/", ""):
            return False
    t = millis(row[time_field])
    if "from" in f and t < millis(f["from"]):
        return False
    return "to" not in f or t <= millis(f["to"])


def test_filtered_lists_answer_the_matching_rows_with_totals(ledger):
    total, signals = everything(ledger, "/v1/signals")
    assert total == 24 and [s["id"] for s in signals] == list(range(24, 0, -1))
    strategy_of = {s["id"]: s["strategy"] for s in signals}
    cases = {
        ("/v1/signals", "bar_time"): [
            {"market": "ETH/USDT"}, {"strategy": "oops", "side": "SELL"}, {"interval": "4h", "final_decision": "rejected"},
            {"from": "2026-01-02T00:00:00Z", "to": "2026-01-03T12:00:00Z", "market": "BTCUSDT"},
        ],
        ("/v1/positions", "opened_at"): [
            {"status": "OPEN"}, {"side": "SELL", "status": "CLOSED"}, {"exit_reason": "target"},
            {"strategy": "manual"}, {"strategy": "pullback", "market": "SOLUSDT"},
            {"from": "2026-01-02T00:00:00Z", "to": "2026-01-03T23:59:59.999Z"},
        ],
        ("/v1/trades", "exit_time"): [
            {"market": "BTCUSDT"}, {"side": "BUY", "exit_reason": "STOP_LOSS"}, {"strategy": "sma_cross"},
            {"strategy": "manual"}, {"from": "2026-01-03T00:00:00Z", "to": "2026-01-04T23:59:59.999Z"},
        ],
    }
    for (path, time_field), filters in cases.items():
        total, rows = everything(ledger, path)
        if path == "/v1/trades":
            for row in rows:
                assert row["strategy"] == (strategy_of[row["signal_id"]] if row["signal_id"] else "manual"), row
        for f in filters:
            expected = [r["id"] for r in rows if matches(r, f, time_field)]
            assert expected, (path, f)
            got_total, got = everything(ledger, path, f)
            assert got_total == len(expected), (path, f)
            got_ids = [r["id"] for r in got]
            if f.get("status") == "CLOSED":
                assert got_ids == [r["id"] for r in sorted((r for r in rows if matches(r, f, time_field)),
                                                           key=lambda r: (r["closed_at"], r["id"]), reverse=True)]
            else:
                assert got_ids == expected, (path, f)
    # Day bounds: to=YYYY-MM-DD takes the whole day.
    _, by_day = everything(ledger, "/v1/trades", {"from": "2026-01-03", "to": "2026-01-04"})
    _, by_time = everything(ledger, "/v1/trades", {"from": "2026-01-03T00:00:00Z", "to": "2026-01-04T23:59:59.999Z"})
    assert by_day == by_time and by_day
    _, by_ms = everything(ledger, "/v1/trades", {"from": str(millis("2026-01-03T00:00:00Z")), "to": "2026-01-04"})
    assert by_ms == by_day


def test_closed_positions_come_newest_close_first(ledger):
    _, closed = everything(ledger, "/v1/positions", {"status": "CLOSED"})
    assert len(closed) == 17
    assert [p["closed_at"] for p in closed] == sorted((p["closed_at"] for p in closed), reverse=True)
    assert [p["id"] for p in closed] != sorted((p["id"] for p in closed), reverse=True), "the seed closes out of id order"


def test_lists_answer_the_same_over_the_socket(ledger):
    ws, _ = ledger.session("VIEWER", "sock-reads")
    try:
        for n, (method, path, params) in enumerate([
            ("trades.list", "/v1/trades", {"strategy": "oops", "limit": 5}),
            ("positions.list", "/v1/positions", {"status": "CLOSED", "side": "BUY"}),
            ("signals.list", "/v1/signals", {"from": "2026-01-02", "final_decision": "APPROVED"}),
            ("stats.by_strategy", "/v1/stats/by-strategy", {"from": "2026-01-02"}),
        ], start=1):
            ws.send({"type": "request", "id": n, "method": method, "params": params})
            frame = ws.expect(lambda f: f.get("id") == n and f.get("type") in ("response", "error"), skip=lambda f: True)
            assert frame["type"] == "response", frame
            status, body = get_json(ledger, path, params)
            assert status == 200
            assert json.loads(json.dumps(frame["result"]), parse_float=Decimal) == body
    finally:
        ws.close()


def parse_csv(raw: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))


@pytest.mark.parametrize("path,filters", [
    ("/v1/signals", {}), ("/v1/signals", {"strategy": "pullback", "interval": "1h"}),
    ("/v1/positions", {"status": "CLOSED", "market": "ETHUSDT"}), ("/v1/positions", {}),
    ("/v1/trades", {"exit_reason": "MANUAL"}), ("/v1/trades", {"from": "2026-01-02", "to": "2026-01-04"}),
])
def test_csv_export_rows_equal_the_list(ledger, path, filters):
    total, rows = everything(ledger, path, filters)
    status, headers, raw = get(ledger, path + "/export", {**filters, "format": "csv"})
    assert status == 200, raw
    assert headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"].startswith("attachment;") and ".csv" in headers["content-disposition"]
    exported = parse_csv(raw)
    assert len(exported) == total
    assert [int(r["id"]) for r in exported] == [r["id"] for r in rows], "newest first, as the list"
    for line, row in zip(exported, rows):
        if "explanation" in row:
            assert line["explanation"] == row["explanation"]  # commas, quotes and a newline survive
        for money in ("pnl", "commission", "entry_price"):
            if money in row and row[money] is not None:
                assert Decimal(line[money]) == row[money]
        if path != "/v1/signals":
            assert line["strategy"] == row["strategy"]


def test_export_row_limit(ledger):
    with ledger.redis() as r:
        s = Scripts(r)
        commands = [s.args("record_signal", signal_request(7, "bulk", "BTCUSDT", BASE + 1000 * HOUR + i * 60_000),
                           BASE) for i in range(10_001)]
        for start in range(0, len(commands), 2000):
            r.pipeline(commands[start:start + 2000])
    status, body = get_json(ledger, "/v1/signals/export", {"format": "csv"})
    assert status == 400 and body["error_code"] == "BAD_REQUEST"
    assert "10025 rows match" in body["message"] and "limit" in body["message"] and "from" in body["message"]
    status, _, raw = get(ledger, "/v1/signals/export", {"format": "csv", "limit": 10_000})
    assert status == 200
    rows = parse_csv(raw)
    assert len(rows) == 10_000 and int(rows[0]["id"]) == 10_025 and int(rows[-1]["id"]) == 26
    status, _, raw = get(ledger, "/v1/signals/export", {"strategy": "bulk"})
    assert status == 400
    status, _, raw = get(ledger, "/v1/signals/export", {"strategy": "pullback"})
    assert status == 200 and len(parse_csv(raw)) == 8
    status, page = get_json(ledger, "/v1/signals", {"strategy": "bulk", "limit": 1})
    assert page["total"] == 10_001


def money_sums(trades: list[dict]) -> dict:
    pnl = [t["pnl"] for t in trades]
    gross_loss = sum((p for p in pnl if p < 0), Decimal(0))
    gross_profit = sum((p for p in pnl if p > 0), Decimal(0))
    return {"trades": len(trades), "wins": sum(1 for p in pnl if p > 0), "losses": sum(1 for p in pnl if p <= 0),
            "pnl": sum(pnl, Decimal(0)), "gross_profit": gross_profit, "gross_loss": gross_loss,
            "commission": sum((t["commission"] for t in trades), Decimal(0))}


def assert_totals(answer: dict, trades: list[dict]):
    want = money_sums(trades)
    for key, value in want.items():
        assert answer[key] == value, (key, answer, want)
    if want["trades"]:
        assert abs(answer["win_rate"] - Decimal(want["wins"]) / want["trades"] * 100) < Decimal("1e-9")
    if want["gross_loss"] < 0:
        assert abs(answer["profit_factor"] - want["gross_profit"] / -want["gross_loss"]) < Decimal("1e-9")
    else:
        assert answer["profit_factor"] is None


@pytest.mark.parametrize("params", [{}, {"from": "2026-01-02", "to": "2026-01-04"}])
def test_analytics_add_up_to_the_trade_list(ledger, params):
    _, trades = everything(ledger, "/v1/trades", params)
    assert len(trades) >= 5
    for route, key in (("by-market", "market"), ("by-exit-reason", "exit_reason"), ("by-strategy", "strategy")):
        status, answer = get_json(ledger, f"/v1/stats/{route}", params)
        assert status == 200, answer
        assert_totals(answer["totals"], trades)
        keys = sorted({t[key] for t in trades})
        assert [row[key] for row in answer["data"]] == keys
        for row in answer["data"]:
            assert_totals(row, [t for t in trades if t[key] == row[key]])
        # The list filtered by the same key gives the same sums.
        _, filtered = everything(ledger, "/v1/trades", {**params, key: answer["data"][0][key]})
        assert_totals(answer["data"][0], filtered)
    status, daily = get_json(ledger, "/v1/stats/daily", params)
    assert status == 200, daily
    assert_totals(daily["totals"], trades)
    _, all_trades = everything(ledger, "/v1/trades")
    days = sorted({t["exit_time"][:10] for t in trades})
    assert [row["date"] for row in daily["data"]] == days
    for row in daily["data"]:
        assert_totals(row, [t for t in trades if t["exit_time"][:10] == row["date"]])
        through = sum((t["pnl"] for t in all_trades if t["exit_time"][:10] <= row["date"]), Decimal(0))
        assert row["equity"] == Decimal("100000") + through


ROUTES = ["/v1/stats/daily", "/v1/stats/by-market", "/v1/stats/by-exit-reason", "/v1/stats/by-strategy",
          "/v1/signals/export", "/v1/positions/export", "/v1/trades/export",
          "/v1/signals", "/v1/positions", "/v1/trades"]


@pytest.mark.parametrize("path", ROUTES)
def test_roles(ledger, path):
    status, _, raw = get(ledger, path, {"format": "csv"} if path.endswith("export") else None)
    assert status == 200, raw
    status, _, raw = get(ledger, path, None, role=None)
    assert status == 401, raw
    assert json.loads(raw)["error_code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("path,params,field", [
    ("/v1/stats/daily", {"from": "yesterday"}, "from"),
    ("/v1/stats/by-market", {"to": "2026-02-30T99:00:00Z"}, "to"),
    ("/v1/stats/by-strategy", {"from": "2026-01-05", "to": "2026-01-02"}, "from"),
    ("/v1/trades", {"side": "LONG"}, "side"),
    ("/v1/positions", {"status": "DONE"}, "status"),
    ("/v1/signals", {"final_decision": "MAYBE"}, "final_decision"),
    ("/v1/signals", {"interval": "7m"}, "interval"),
    ("/v1/trades/export", {"format": "xlsx"}, "format"),
    ("/v1/positions/export", {"format": "json"}, "format"),
    ("/v1/signals/export", {"format": "csv", "limit": "10001"}, "limit"),
    ("/v1/trades/export", {"format": "csv", "limit": "0"}, "limit"),
    ("/v1/trades/export", {"format": "csv", "to": "soon"}, "to"),
    ("/v1/positions/export", {"format": "csv", "status": "maybe"}, "status"),
])
def test_bad_input_names_the_field(ledger, path, params, field):
    status, body = get_json(ledger, path, params)
    assert status == 400, body
    assert body["error_code"] == "BAD_REQUEST" and body["message"].startswith(field + " "), body
