"""Black-box tests of the live engine (docs/ENGINE.md): `bedrock replay` bars into the gateway's
Redis, the engine turns them into signals and positions through the consumer group `bedrock:engine`.

- the signals equal what `bedrock backtest` decides on the same bars (same code);
- two gateways on one Redis process each bar once;
- `kill -9` of the gateway at random moments during a replay: after restarts, no signal or
  position is duplicated, every signal has one `signal.created`, the account invariant holds
  and every bar is processed.

Each test first checks that the live engine is wired into `bedrock serve` (its metrics are there).
"""

from __future__ import annotations

import json
import random
import signal as sig_mod
import subprocess
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import PREFIX, poll, stream_key, wait_until
from test_replay import run

MARKET, INTERVAL = "BTCUSDT", "1h"
TOPIC = f"klines:{MARKET}:{INTERVAL}"
FAST = {"engine": {"discover_interval_ms": 100, "claim_idle_ms": 500, "lease_ms": 1000}}


def engine_wired(gw) -> bool:
    """Whether the engine's metrics show up in `/metrics` within 5 s."""
    return bool(poll(lambda: "bedrock_engine_bars_processed_total" in gw.http("GET", "/metrics")[2].decode(), 5))


def sample(tmp_path: Path, bars: int, seed: int = 7) -> Path:
    out = tmp_path / "sample"
    p = run("sample-data", "--out", str(out), "--bars", str(bars), "--seed", str(seed), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    return out / f"{MARKET}-1h.csv"


def replay(csv: Path, redis_url: str, tmp_path: Path) -> subprocess.Popen:
    from helpers import BEDROCK_BIN
    import os
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    return subprocess.Popen([str(BEDROCK_BIN), "replay", "--data", str(csv), "--market", MARKET, "--interval",
                             INTERVAL, "--speed", "0", "--redis", redis_url], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def group_state(r) -> dict:
    try:
        groups = r.execute("XINFO", "GROUPS", stream_key(TOPIC))
    except Exception:  # noqa: BLE001 - no stream yet
        return {}
    for g in groups:
        info = {g[i].decode() if isinstance(g[i], bytes) else g[i]: g[i + 1] for i in range(0, len(g), 2)}
        if info.get("name") in (f"{PREFIX}engine", f"{PREFIX}engine".encode()):
            return info
    return {}


def engine_group(gw) -> dict:
    with gw.redis() as r:
        return group_state(r)


def wait_processed(gw, bars: int, timeout: float = 90) -> None:
    def processed() -> bool:
        info = engine_group(gw)
        return bool(info) and int(info.get("entries-read") or 0) >= bars and int(info["pending"]) == 0

    wait_until(processed, timeout, f"the engine to process {bars} bars", interval=0.2,
               seen=lambda: f"{engine_group(gw)}\n{gw.log_text()}")


def all_pages(gw, path: str) -> list[dict]:
    token = gw.token("VIEWER")
    out, offset = [], 0
    while True:
        sep = "&" if "?" in path else "?"
        status, _, body = gw.get_json(f"{path}{sep}limit=100&offset={offset}",
                                      {"Authorization": f"Bearer {token}"})
        assert status == 200, body
        out += body["data"]
        offset += 100
        if offset >= body["total"]:
            return out


def backtest(csv: Path, strategy: str, tmp_path: Path) -> dict:
    p = run("backtest", "--data", str(csv), "--strategy", strategy, "--balance", "100000", "--format", "json",
            cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def bar_times(csv: Path) -> list[str]:
    return [line.split(",", 1)[0] for line in csv.read_text().splitlines()[1:]]


def check_no_duplicates(gw) -> tuple[list[dict], list[dict]]:
    signals = all_pages(gw, "/v1/signals")
    keys = Counter((s["market"], s["interval"], s["signal_type"], s["bar_time"]) for s in signals)
    assert max(keys.values(), default=1) == 1, [k for k, n in keys.items() if n > 1]
    positions = all_pages(gw, "/v1/positions")
    by_signal = Counter(p["signal_id"] for p in positions)
    assert max(by_signal.values(), default=1) == 1, "a signal opened two positions"
    with gw.redis() as r:
        created = [json.loads(f["event"]) for _, f in r.xrange(stream_key("signals"))]
    assert len(created) == len(signals), "one signal.created per signal"
    assert sorted(e["id"] for e in created) == sorted(s["id"] for s in signals)
    return signals, positions


def test_replayed_bars_give_the_backtest_signals(start_gateway, redis_server, tmp_path):
    gw = start_gateway(FAST)
    assert engine_wired(gw), "the live engine is not wired into bedrock serve"
    csv = sample(tmp_path, 300)
    assert replay(csv, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(gw, 300)
    signals, _ = check_no_duplicates(gw)
    times = bar_times(csv)
    for strategy in ("pullback", "oops"):
        report = backtest(csv, strategy, tmp_path)
        mine = [s for s in signals if s["signal_type"].startswith(strategy.upper())]
        assert len(mine) == report["signals_generated"], strategy
        approved = {(s["side"], s["bar_time"]) for s in mine if s["final_decision"] == "APPROVED"}
        for trade in report["trades"]:
            decided = times[times.index(trade["entry_time"]) - 1]
            assert (trade["side"], decided) in approved, (strategy, trade)


def test_two_gateways_process_each_bar_once(start_gateway, redis_server, tmp_path):
    a, b = start_gateway(FAST), start_gateway(FAST)
    assert engine_wired(a), "the live engine is not wired into bedrock serve"
    csv = sample(tmp_path, 300, seed=3)
    assert replay(csv, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(a, 300)

    def processed() -> int:
        total = 0
        for gw in (a, b):
            text = gw.http("GET", "/metrics")[2].decode()
            total += int(next(l for l in text.splitlines()
                              if l.startswith("bedrock_engine_bars_processed_total ")).split()[1])
        return total

    # Each gateway's engine totals in /metrics are refreshed every ~2 s; wait for both refreshes.
    wait_until(lambda: processed() >= 300, 15, "300 bars processed in the two gateways' /metrics",
               interval=0.2, seen=processed)
    assert processed() == 300
    signals, _ = check_no_duplicates(a)
    expected = sum(backtest(csv, s, tmp_path)["signals_generated"] for s in ("pullback", "oops"))
    assert len(signals) == expected


def test_kill_9_during_replay_duplicates_nothing(start_gateway, redis_server, tmp_path):
    gw = start_gateway(FAST)
    assert engine_wired(gw), "the live engine is not wired into bedrock serve"
    bars = 5000  # the issue: kill -9 at random moments during a 5,000-bar replay
    csv = sample(tmp_path, bars, seed=5)
    feeder = replay(csv, redis_server.url, tmp_path)
    rng = random.Random(20261122)
    for _ in range(5):
        time.sleep(rng.uniform(0.3, 1.5))  # on purpose: the kill lands at a random moment of the replay
        gw.stop(sig_mod.SIGKILL)
        gw.start()
    assert feeder.wait(120) == 0
    wait_processed(gw, bars, timeout=110)
    signals, positions = check_no_duplicates(gw)
    expected = sum(backtest(csv, s, tmp_path)["signals_generated"] for s in ("pullback", "oops"))
    assert len(signals) == expected, "every bar's signals recorded once, across the crashes"
    # Account invariant: balance = initial + Σ closed trade pnl − entry commission of open positions.
    token = gw.token("VIEWER")
    account = gw.get_json("/v1/account", {"Authorization": f"Bearer {token}"})[2]
    trades = all_pages(gw, "/v1/trades")
    open_commission = sum(Decimal(str(p["commission"])) for p in positions if p["status"] == "OPEN")
    expected_balance = Decimal(str(account["initial_balance"])) + sum(Decimal(str(t["pnl"])) for t in trades) - open_commission
    assert abs(Decimal(str(account["balance"])) - expected_balance) <= Decimal("0.00000001") * (len(trades) + 1)
    # Every ledger event has its change: one portfolio.updated POSITION_OPENED per position,
    # one position.closed per closed position.
    with gw.redis() as r:
        events = [json.loads(f["event"]) for _, f in r.xrange(stream_key("portfolio"))]
    opened = Counter(e["position_id"] for e in events if e.get("action") == "POSITION_OPENED")
    closed = Counter(e["position_id"] for e in events if e["event_type"] == "position.closed")
    assert sorted(opened) == sorted(p["id"] for p in positions) and max(opened.values(), default=1) == 1
    assert sorted(closed) == sorted(p["id"] for p in positions if p["status"] == "CLOSED")
    assert max(closed.values(), default=1) == 1


def test_generate_over_rest_and_socket(start_gateway, redis_server, tmp_path):
    gw = start_gateway({"engine": {"strategies": ["oops", "pullback"], "discover_interval_ms": 100}})
    assert engine_wired(gw), "the live engine is not wired into bedrock serve"
    trader = {"Authorization": f"Bearer {gw.token('TRADER')}", "Content-Type": "application/json"}

    def generate(body: dict, headers: dict = trader):
        status, _, raw = gw.http("POST", "/v1/signals/generate", headers, json.dumps(body).encode())
        return status, json.loads(raw)

    status, answer = generate({"market": MARKET, "interval": INTERVAL})
    assert status == 200 and answer["signal"] is None and "no bars" in answer["reason"], answer
    assert generate({"interval": INTERVAL})[0] == 400
    assert generate({"market": MARKET, "interval": INTERVAL, "force_analysis": "yes"})[0] == 400
    viewer = {"Authorization": f"Bearer {gw.token('VIEWER')}", "Content-Type": "application/json"}
    assert generate({"market": MARKET, "interval": INTERVAL}, viewer)[0] == 403

    csv = sample(tmp_path, 300)
    assert replay(csv, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(gw, 300)
    status, answer = generate({"market": MARKET, "interval": INTERVAL, "force_analysis": True})
    assert status == 200, answer
    assert answer["bar_time"] == bar_times(csv)[-1]
    assert [a["strategy"] for a in answer["analysis"]] == ["oops", "pullback"]
    if answer["signal"] is None:
        assert answer["reason"] and answer["signals"] == []
    else:
        # The engine already processed that bar: the same signal, not a new one.
        assert answer["created"] is False and answer["signal"]["bar_time"] == answer["bar_time"]
    before = len(all_pages(gw, "/v1/signals"))
    sock, _ = gw.session("TRADER")
    try:
        sock.send({"type": "request", "id": 1, "method": "signals.generate",
                   "params": {"market": MARKET, "interval": INTERVAL}})
        frame = sock.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == 1)
        assert frame["type"] == "response", frame
        assert frame["result"]["signal"] == answer["signal"]
    finally:
        sock.close()
    assert len(all_pages(gw, "/v1/signals")) == before, "generating again records nothing new"
