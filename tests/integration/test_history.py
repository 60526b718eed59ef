"""Black-box tests of history bars (SPEC §10, docs/ENGINE.md "History bars"): `bedrock replay
--fast-first N` publishes the file's first N bars flagged `"backfill": true`; the live engine of
`bedrock serve` learns from them without trading (the paper account, signals, positions and risk
alerts stay untouched) and trades from the first live bar on, with indicators warmed up by the
history; `engine.trade_history: true` trades the history as a simulation would.

The market is built for `sma_cross` (fast 10, slow 20): 500 history bars oscillating (many
crosses), ending in a slide, then a jump that makes SMA(10) cross above SMA(20) on the first live
bar — a cross that needs the history (SMA(20) is undefined on the live bars alone).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from helpers import stream_key, wait_until
from test_engine import all_pages, engine_wired, wait_processed
from test_replay import JAN1, MARKET, TOPIC, run

HISTORY = 500
ENGINE = {"engine": {"strategies": ["sma_cross"], "discover_interval_ms": 100, "claim_idle_ms": 500,
                     "lease_ms": 1000}}


def closes() -> list[float]:
    out = [round(100 + 10 * math.sin(2 * math.pi * i / 40), 4) for i in range(HISTORY - 30)]
    out += [110 - i for i in range(30)]  # 110 down to 81: SMA(10) below SMA(20)
    return out + [200, 201, 202]  # the first live bar crosses


def write_market(path: Path, n: int) -> Path:
    lines = ["timestamp,open,high,low,close,volume"]
    previous = closes()[0]
    for i, c in enumerate(closes()[:n]):
        lines.append(f"{JAN1 + 3600 * i},{previous},{max(previous, c) + 0.5},{min(previous, c) - 0.5},{c},1")
        previous = c
    path.write_text("\n".join(lines) + "\n")
    return path


def replay(csv: Path, redis_url: str, tmp_path: Path, *extra: str):
    return run("replay", "--data", str(csv), "--market", MARKET, "--interval", "1h", "--redis", redis_url,
               *extra, cwd=tmp_path)


def iso(i: int) -> str:
    from test_replay import iso as to_iso
    return to_iso(JAN1 + 3600 * i)


def ledger_view(gw) -> dict:
    token = gw.token("VIEWER")
    status, _, account = gw.get_json("/v1/account", {"Authorization": f"Bearer {token}"})
    assert status == 200, account
    with gw.redis() as r:
        lengths = {f"{t}_events": int(r.execute("XLEN", stream_key(t))) for t in ("signals", "portfolio", "risk")}
    return {"account": {k: account[k] for k in ("balance", "available_balance", "equity")},
            "signals": all_pages(gw, "/v1/signals"), "positions": all_pages(gw, "/v1/positions"), **lengths}


def test_fast_first_history_warms_the_engine_up_and_live_bars_trade(start_gateway, redis_server, tmp_path):
    gw = start_gateway(ENGINE)
    assert engine_wired(gw), "the live engine is not wired into bedrock serve"
    fresh = ledger_view(gw)

    # The history alone: every bar flagged, processed, nothing traded.
    history = write_market(tmp_path / "history.csv", HISTORY)
    p = replay(history, redis_server.url, tmp_path, "--fast-first", str(HISTORY), "--speed", "0")
    assert p.returncode == 0, p.stderr
    assert f"published {HISTORY} bar(s) (the first {HISTORY} flagged as history)" in p.stdout
    with gw.redis() as r:
        events = [json.loads(f["event"]) for _, f in r.xrange(stream_key(TOPIC))]
    assert len(events) == HISTORY and all(e.get("backfill") is True for e in events)
    wait_processed(gw, HISTORY)
    assert ledger_view(gw) == fresh, "the history traded"
    assert fresh["signals"] == [] and fresh["positions"] == [] and fresh["account"]["balance"] == 100000
    gw.metrics_with(f"bedrock_engine_history_bars_total {HISTORY}")

    # The same file with its live bars: resumes after the history, paced, unflagged; the first
    # live bar trades on indicators the history warmed up.
    full = write_market(tmp_path / "full.csv", HISTORY + 3)
    p = replay(full, redis_server.url, tmp_path, "--fast-first", str(HISTORY), "--speed", "20")
    assert p.returncode == 0, p.stderr
    assert "published 3 bar(s), skipped 500" in p.stdout
    wait_processed(gw, HISTORY + 3)
    after = ledger_view(gw)
    assert [(s["signal_type"], s["bar_time"]) for s in after["signals"]] == [("SMA_CROSS_BUY", iso(HISTORY))]
    assert len(after["positions"]) == 1
    position = after["positions"][0]
    assert position["status"] == "OPEN" and position["entry_price"] == 200, position
    assert position["current_price"] == 202, "marked by the live bars after it"
    assert after["account"]["available_balance"] < fresh["account"]["available_balance"]
    gw.metrics_with(f"bedrock_engine_history_bars_total {HISTORY}")


def test_trade_history_trades_the_flagged_bars(start_gateway, redis_server, tmp_path):
    gw = start_gateway({"engine": {**ENGINE["engine"], "trade_history": True}})
    assert engine_wired(gw), "the live engine is not wired into bedrock serve"
    history = write_market(tmp_path / "history.csv", HISTORY)
    p = replay(history, redis_server.url, tmp_path, "--fast-first", str(HISTORY), "--speed", "0")
    assert p.returncode == 0, p.stderr
    wait_processed(gw, HISTORY)
    view = ledger_view(gw)
    history_times = {iso(i) for i in range(HISTORY)}
    assert len(view["signals"]) > 1 and all(s["bar_time"] in history_times for s in view["signals"])
    assert len(view["positions"]) == 1, "the first cross of the history opened a position"
    wait_until(lambda: "bedrock_engine_positions_opened_total 1" in gw.http("GET", "/metrics")[2].decode(), 10,
               "the engine's positions_opened counter")


def test_bad_fast_first_exits_2(redis_server, tmp_path):
    csv = write_market(tmp_path / "bars.csv", 5)
    for bad in ("-1", "abc", "1.5", "+3", ""):
        p = replay(csv, redis_server.url, tmp_path, "--fast-first", bad)
        assert p.returncode == 2, (bad, p.stderr)
        assert "--fast-first must be a whole number of bars" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    with redis_server.client() as r:
        assert int(r.execute("XLEN", stream_key(TOPIC))) == 0
