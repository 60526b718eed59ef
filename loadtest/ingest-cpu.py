#!/usr/bin/env python3
"""CPU and memory of the live ingest (docs/BENCHMARKS.md, "Market data ingest"): a fresh
redis-server and one gateway ingesting `--markets` sample markets on 1m bars at `--speed`× real
time (one bar per market every 60/speed seconds, the in-process sample exchange: the same worker,
sequencer, lease, status hash and appends as an exchange market, no network). The engine is off
unless `--engine` (then its default strategies trade every bar too). After `--warmup` seconds
(backfill done), samples the gateway's CPU time and RSS every `--every` seconds for `--duration`
seconds and prints CPU as % of one core, RSS first/last/max, and bars appended.

    loadtest/ingest-cpu.py [--bin .build/release/bedrock] [--markets 50] [--speed 50] [--duration 600]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import free_port  # noqa: E402
from resp import Redis, wait_for_redis  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bars(redis: Redis) -> int:
    keys = redis.execute("KEYS", "bedrock:stream:klines:*")
    return sum(redis.execute("XLEN", k) for k in keys)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / ".build/release/bedrock"))
    ap.add_argument("--markets", type=int, default=50)
    ap.add_argument("--speed", type=float, default=50)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--every", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--engine", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        redis_port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL)
        wait_for_redis(port=redis_port)
        markets = ",".join(f"sample:M{i:02d}/USDT:1m" for i in range(args.markets))
        config = Path(tmp) / "bedrock.json"
        config.write_text(json.dumps({
            "mode": "dev", "data_dir": tmp, "server": {"port": port, "public_dir": str(REPO / "public")},
            "redis": {"url": f"redis://127.0.0.1:{redis_port}"}, "log": {"level": "warning"},
            "engine": {"strategies": ["pullback", "oops"] if args.engine else []},
            "market_data": {"backfill_bars": 1100, "retain_bars": 100000, "sample_bar_s": 60 / args.speed},
        }))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
        env["BEDROCK_MARKET_DATA_MARKETS"] = markets
        gw = subprocess.Popen([args.bin, "serve", "--config", str(config)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            r = Redis(port=redis_port)
            time.sleep(args.warmup)
            start_cpu, start_t, start_bars = cpu_seconds(gw.pid), time.monotonic(), bars(r)
            samples = []
            while time.monotonic() - start_t < args.duration:
                time.sleep(args.every)
                samples.append((time.monotonic() - start_t, cpu_seconds(gw.pid), rss_mib(gw.pid)))
                print(f"  t={samples[-1][0]:6.0f}s  cpu={samples[-1][1] - start_cpu:7.2f}s  rss={samples[-1][2]:6.1f} MiB",
                      flush=True)
            elapsed = time.monotonic() - start_t
            used = cpu_seconds(gw.pid) - start_cpu
            appended = bars(r) - start_bars
            rss = [s[2] for s in samples]
            print(f"markets={args.markets} interval=1m speed={args.speed}x engine={'on' if args.engine else 'off'}")
            print(f"bars appended: {appended} in {elapsed:.0f} s ({appended / elapsed:.1f}/s, "
                  f"expected {args.markets * args.speed / 60:.1f}/s)")
            print(f"cpu: {100 * used / elapsed:.2f} % of one core")
            print(f"rss: first {rss[0]:.1f} MiB, last {rss[-1]:.1f} MiB, max {max(rss):.1f} MiB")
        finally:
            gw.terminate()
            gw.wait(15)
            redis.terminate()
            redis.wait(5)


if __name__ == "__main__":
    main()
