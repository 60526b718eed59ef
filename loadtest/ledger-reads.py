#!/usr/bin/env python3
"""Ledger reads over a large ledger (docs/LEDGER.md, "Filters, exports and analytics"): a fresh
redis-server filled with N closed trades (and their positions and signals), one gateway, then
timed REST calls: each analytics route, CSV exports of 10,000 rows, and filtered list pages.

    loadtest/ledger-reads.py [--bin .build/release/bedrock] [--trades 100000] [--runs 20]

The records are written straight into the REDIS_LAYOUT.md shape (hashes plus the `*:index`
sorted sets, as the ledger scripts write them) so that filling 100,000 trades takes seconds, not
minutes of scripts. Trades spread over 365 days, 3 markets, 4 strategies (every 50th trade
manual, without a signal) and 4 exit reasons. Prints, per call, the median and the worst of
`--runs` warm calls (wall time of the HTTP request on a fresh connection, client side), and the
first call's time (the gateway reading every record's filter fields into its index).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_http import timed_get

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import free_port  # noqa: E402
from resp import Redis  # noqa: E402

P = "bedrock:"
BASE = 1735689600000  # 2025-01-01


# Writes records first..last (one signal, position and trade each; every 50th manual, without a
# signal) in the shape the ledger scripts write. ARGV: prefix, first, last, base ms, step ms.
FILL = """
local P, first, last, base, step = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local markets = {'BTCUSDT', 'ETHUSDT', 'SOLUSDT'}
local strategies = {'pullback', 'oops', 'sma_cross', 'rsi_revert'}
local reasons = {'STOP_LOSS', 'TARGET', 'TRAILING_STOP', 'MANUAL'}
local function iso(ms)
  local s = math.floor(ms / 1000)
  local days = math.floor(s / 86400)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  local sod = s % 86400
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(sod / 3600),
    math.floor(sod % 3600 / 60), sod % 60, ms % 1000)
end
for i = first, last do
  local market, side = markets[i % 3 + 1], (i % 4 == 0) and 'SELL' or 'BUY'
  local opened, closed = base + i * step, base + i * step + math.floor(step / 2)
  local entry, exit = 100 + i % 50, 100 + (i * 7) % 53
  local pnl = string.format('%.8f', (exit - entry) * 1.5 - 0.3)
  local manual = i % 50 == 0
  local id = tostring(i)
  if not manual then
    redis.call('HSET', P .. 'signal:' .. id, 'id', id, 'market', market, 'interval', '1h',
      'strategy', strategies[i % 4 + 1], 'signal_type', 'PULLBACK_BUY', 'side', side, 'entry_price', entry,
      'stop_loss_price', entry * 0.95, 'final_decision', 'APPROVED',
      'explanation', 'rule score ' .. (i % 100) .. ', "trend" ok', 'bar_time', iso(opened), 'created_at', iso(opened))
    redis.call('ZADD', P .. 'signals:index', i, id)
  end
  redis.call('HSET', P .. 'position:' .. id, 'id', id, 'market', market, 'side', side, 'status', 'CLOSED',
    'size', '1.5', 'entry_price', entry, 'exit_price', exit, 'exit_reason', reasons[i % 4 + 1],
    'realized_pnl', pnl, 'commission', '0.3', 'opened_at', iso(opened), 'opened_at_ms', opened,
    'closed_at', iso(closed), 'closed_at_ms', closed, 'trade_id', id)
  redis.call('HSET', P .. 'trade:' .. id, 'id', id, 'position_id', id, 'market', market, 'side', side,
    'size', '1.5', 'entry_price', entry, 'exit_price', exit, 'pnl', pnl, 'commission', '0.3',
    'exit_reason', reasons[i % 4 + 1], 'entry_time', iso(opened), 'exit_time', iso(closed),
    'duration_s', math.floor(step / 2000))
  if not manual then
    redis.call('HSET', P .. 'position:' .. id, 'signal_id', id)
    redis.call('HSET', P .. 'trade:' .. id, 'signal_id', id)
  end
  redis.call('ZADD', P .. 'positions:index', i, id)
  redis.call('ZADD', P .. 'positions:status:CLOSED', i, id)
  redis.call('ZADD', P .. 'trades:index', i, id)
end
return last - first + 1
"""


def fill(r: Redis, n: int) -> None:
    step = 365 * 86_400_000 // n
    r.execute("HSET", P + "account", "initial_balance", "100000", "balance", "100000")
    for first in range(1, n + 1, 2000):
        r.execute("EVAL", FILL, 0, P, first, min(n, first + 1999), BASE, step)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / ".build" / "release" / "bedrock"))
    ap.add_argument("--trades", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    a.bin = str(Path(a.bin).resolve())
    work = Path(tempfile.mkdtemp(prefix="ledger-reads-"))
    rport, port = free_port(), free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", str(work),
                              "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    gateway = None
    try:
        time.sleep(0.5)
        r = Redis(port=rport)
        t0 = time.monotonic()
        fill(r, a.trades)
        print(f"filled {a.trades} trades (+ positions, signals) in {time.monotonic() - t0:.1f} s")
        cfg = work / "gw.json"
        cfg.write_text(json.dumps({"mode": "dev", "data_dir": str(work / "data"), "jwt": {"secret": "x" * 40},
                                   "server": {"public_dir": str(REPO / "public")},
                                   "redis": {"url": f"redis://127.0.0.1:{rport}"}, "engine": {"strategies": []}}))
        (work / "data").mkdir()
        gateway = subprocess.Popen([a.bin, "serve", "--config", str(cfg), "--port", str(port)], cwd=work, env=env,
                                   stdout=open(work / "gw.log", "w"), stderr=subprocess.STDOUT)
        token = subprocess.run([a.bin, "token", "--config", str(cfg), "--data-dir", str(work / "data"), "--sub",
                                "bench", "--role", "VIEWER"], check=True, capture_output=True, text=True,
                               env=env).stdout.split()[-1]
        deadline = time.monotonic() + 30
        while True:
            try:
                if timed_get(port, "/health", token)[1] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the gateway did not start")
            time.sleep(0.1)
        t0 = time.perf_counter()
        calls = 0
        while True:
            calls += 1
            _, status, body = timed_get(port, "/v1/stats/by-market", token)
            if status == 200:
                break
            if calls > 50:
                raise SystemExit(f"first read failed: {status} {body[:200]!r}")
        print(f"first call after start (the index reads every signal, position and trade at start): {(time.perf_counter() - t0) * 1000:.0f} ms "
              f"in {calls} call(s)")
        routes = [
            ("stats.daily", "/v1/stats/daily"),
            ("stats.by_market", "/v1/stats/by-market"),
            ("stats.by_exit_reason", "/v1/stats/by-exit-reason"),
            ("stats.by_strategy", "/v1/stats/by-strategy"),
            ("stats.daily one month", "/v1/stats/daily?from=2025-03-01&to=2025-03-31"),
            ("trades CSV, 10,000 rows", "/v1/trades/export?format=csv&limit=10000"),
            ("positions CSV, 10,000 rows", "/v1/positions/export?format=csv&limit=10000"),
            ("signals CSV, 10,000 rows", "/v1/signals/export?format=csv&limit=10000"),
            ("trades.list filtered page", "/v1/trades?strategy=oops&market=ETHUSDT&exit_reason=TARGET&limit=100"),
            ("positions.list CLOSED page", "/v1/positions?status=CLOSED&limit=100"),
        ]
        print(f"{'call':32} {'median ms':>10} {'max ms':>8} {'bytes':>10}")
        for name, path in routes:
            times = []
            size = 0
            for _ in range(a.runs):
                ms, status, body = timed_get(port, path, token)
                if status != 200:
                    raise SystemExit(f"{path}: {status} {body[:200]!r}")
                times.append(ms)
                size = len(body)
            print(f"{name:32} {statistics.median(times):10.1f} {max(times):8.1f} {size:10}")
    finally:
        if gateway:
            gateway.terminate()
            gateway.wait(10)
        redis.terminate()
        redis.wait(5)


if __name__ == "__main__":
    main()
