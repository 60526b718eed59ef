#!/usr/bin/env python3
"""Limits of ONE Redis for Bedrock's workload on this machine (docs/SCALING.md).

Starts its own redis-server on a free port (no persistence, like a fresh embedded Redis) and
measures with redis-benchmark:

  xadd-signal    XADD of a signal.created-shaped event (the ledger's streams), MAXLEN ~ 10000
  xadd-kline     XADD of a kline.closed-shaped event (market data streams), MAXLEN ~ 10000
  record-signal  EVALSHA of the gateway's own record_signal.lua (common.lua prepended, as
                 ScriptRunner does): one ledger write = signal hash, 4 indexes, counters, XADD
  memory         MEMORY USAGE of each stream after the rows, per entry
  xadd + N readers  xadd-signal while N processes each hold one `XREAD BLOCK` loop on the stream,
                 as N gateways do (each gateway runs one reader for all its topics): the Redis side
                 of fan-out. Client fan-out itself happens in the gateways (docs/BENCHMARKS.md).

Each row: requests/s and p50/p99 latency as redis-benchmark reports them, with -c 50 clients,
pipelining 1 (a gateway waits for each ledger script's answer) and 16 (bulk producers); and
redis-server's own CPU time per operation (INFO cpu before and after), whose inverse is the rate
one core given to Redis alone would sustain: on a machine whose cores are shared with the
benchmark client (and the readers) that is the steadier figure.

  python3 loadtest/redis-limits.py [--requests 200000] [--readers 0,4,16]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from resp import Redis, wait_for_redis  # noqa: E402

STREAM = "bedrock:stream:signals"
KLINES = "bedrock:stream:klines:BTCUSDT:1m"

SIGNAL_EVENT = json.dumps({
    "event_type": "signal.created", "schema_version": "2.0", "timestamp": "2026-12-07T12:00:00.000Z",
    "id": 123456, "market": "BTCUSDT", "interval": "1h", "signal_type": "PULLBACK_BUY", "side": "BUY",
    "entry_price": 97123.45, "stop_loss_price": 95010.0, "profit_target_price": 101350.1,
    "risk_unit_r": 2113.45, "suggested_position_weight": 0.18, "rule_engine_score": 72,
    "ml_confidence_score": 64.2, "llm_sentiment": "POSITIVE", "final_decision": "APPROVED",
    "explanation": "Uptrend (close above a rising SMA50); the low touched the EMA20 zone and the bar "
                   "closed back above it. Stop below the swing low, target at 2R.",
    "bar_time": "2026-12-07T11:00:00Z", "created_at": "2026-12-07T12:00:00.000Z",
    "strategy": "pullback", "config_version": 3,
}, separators=(",", ":"))

KLINE_EVENT = json.dumps({
    "event_type": "kline.closed", "schema_version": "2.0", "timestamp": "2026-12-07T12:00:00.000Z",
    "market": "BTCUSDT", "interval": "1m", "open_time": 1796558400000, "open": "97100.10",
    "high": "97180.00", "low": "97050.55", "close": "97123.45", "volume": "12.345678",
}, separators=(",", ":"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cpu_s(port: int) -> float:
    """redis-server's own CPU time so far (user + system, main thread and children)."""
    with Redis(port=port) as r:
        info = str(r.execute("INFO", "cpu"))
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    return float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"])


def bench(port: int, requests: int, pipeline: int, *command: str) -> dict:
    cpu_before = redis_cpu_s(port)
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-n", str(requests), "-c", "50", "-P", str(pipeline),
         "-r", "100000000", "--csv", *command],
        check=True, capture_output=True, text=True).stdout
    # The CSV's first column is the command itself, unquoted JSON included: read the last line's
    # seven numbers from the right (rps, avg, min, p50, p95, p99, max latency in ms).
    fields = [f.strip('"') for f in out.strip().splitlines()[-1].rsplit(",", 7)[1:]]
    rps, _avg, _min, p50, _p95, p99, _max = (float(f) for f in fields)
    # Redis CPU per operation: what one core would sustain if redis-server had it to itself (the
    # benchmark client and the readers share this machine's cores with it).
    cpu_us = (redis_cpu_s(port) - cpu_before) / requests * 1e6
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "cpu_us": cpu_us}


def reader(port: int) -> None:
    """One gateway's stream reader: XREAD BLOCK from the last id, until terminated."""
    r = Redis(port=port, timeout=5)
    last = "$"
    while True:
        reply = r.execute("XREAD", "COUNT", "1000", "BLOCK", "200", "STREAMS", STREAM, last)
        if reply:
            newest = reply[0][1][-1][0]
            last = newest.decode() if isinstance(newest, bytes) else newest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--readers", default="0,4,16")
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="redis-limits-")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows: list[tuple[str, dict]] = []
    try:
        wait_for_redis(port=port)
        lua = os.path.join(ROOT, "Sources", "Bedrock", "Lua")
        script = open(os.path.join(lua, "common.lua")).read() + "\n" + open(os.path.join(lua, "record_signal.lua")).read()
        r = Redis(port=port)
        sha = r.execute("SCRIPT", "LOAD", script)
        sha = str(sha)
        req = json.dumps({
            "strategy": "pullback", "market": "BTCUSDT", "interval": "1h", "bar_time": "__rand_int__",
            "signal_type": "PULLBACK_BUY", "side": "BUY", "entry_price": "97123.45", "stop_loss_price": "95010",
            "profit_target_price": "101350.1", "risk_unit_r": "2113.45", "suggested_position_weight": "0.18",
            "rule_engine_score": "72", "ml_confidence_score": "64.2", "llm_sentiment": "POSITIVE",
            "final_decision": "APPROVED", "explanation": "pullback to the EMA20 zone in an uptrend",
        })
        # The gateway sends every ledger script the same six ARGV (docs/REDIS_LAYOUT.md).
        check = r.execute("EVALSHA", sha, "0", "bedrock:", "10000", "2026-12-07T12:00:00Z", "1796558400000",
                          req.replace("__rand_int__", "check"), "100000")
        assert b"created" in (check if isinstance(check, bytes) else str(check).encode()), check
        for pipeline in (1, 16):
            rows.append((f"xadd-signal -P {pipeline}", bench(port, args.requests, pipeline, "XADD", STREAM, "MAXLEN", "~",
                                                               "10000", "*", "event", SIGNAL_EVENT)))
            rows.append((f"xadd-kline -P {pipeline}", bench(port, args.requests, pipeline, "XADD", KLINES, "MAXLEN", "~",
                                                              "10000", "*", "event", KLINE_EVENT)))
            rows.append((f"record-signal -P {pipeline}", bench(
                port, args.requests // 4, pipeline, "EVALSHA", sha, "0", "bedrock:", "10000", "2026-12-07T12:00:00Z",
                "1796558400000", req, "100000")))
        for n in [int(x) for x in args.readers.split(",") if x and x != "0"]:
            procs = [multiprocessing.Process(target=reader, args=(port,)) for _ in range(n)]
            for p in procs:
                p.start()
            time.sleep(1.0)
            row = bench(port, args.requests, 16, "XADD", STREAM, "MAXLEN", "~", "10000", "*", "event", SIGNAL_EVENT)
            for p in procs:
                p.terminate()
            for p in procs:
                p.join()
            rows.append((f"xadd-signal -P 16 + {n} XREAD readers", row))
        # Memory per stream entry (the streams hold about MAXLEN ~ 10000 entries by now).
        sizes = {}
        for key in (STREAM, KLINES):
            sizes[key] = (int(r.execute("XLEN", key)), int(r.execute("MEMORY", "USAGE", key, "SAMPLES", "0")))
        signal_hash = int(r.execute("MEMORY", "USAGE", "bedrock:signal:1", "SAMPLES", "0"))
        signals = int(r.execute("ZCARD", "bedrock:signals:index"))
        info = str(r.execute("INFO", "memory"))
        used = next(line.split(":")[1] for line in info.splitlines() if line.startswith("used_memory_human"))
        r.close()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)

    print(f"redis-server {subprocess.run(['redis-server', '--version'], capture_output=True, text=True).stdout.split()[2]}, "
          f"{os.cpu_count()} CPUs, {args.requests} requests per XADD row, 50 clients; used_memory at the end {used}")
    for key, (entries, size) in sizes.items():
        print(f"{key}: {entries} entries, {size:,} bytes (MEMORY USAGE), {size / entries:,.0f} bytes per entry")
    print(f"bedrock:signal:1 (one ledger signal hash): {signal_hash:,} bytes; {signals:,} signals recorded")
    print(f"{'row':40} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'redis CPU us/op':>16} {'ops/s per core':>15}")
    for name, row in rows:
        print(f"{name:40} {row['rps']:>10,.0f} {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f} {row['cpu_us']:>16.1f} "
              f"{1e6 / row['cpu_us']:>15,.0f}")


if __name__ == "__main__":
    main()
