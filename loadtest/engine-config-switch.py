#!/usr/bin/env python3
"""How fast a new engine configuration is live on every gateway, and that no bar is skipped or
processed twice across the switches (SPEC §15 target: live everywhere within 2 s).

Two gateways share one fresh redis-server; `bedrock replay` feeds a synthetic market at
`--rate` bars/s while an ADMIN stores `--changes` new versions (alternating arbiter thresholds).
For each change: the time from the `POST /v1/engine/config` answer until both gateways'
`bedrock_engine_config_version` gauge shows it (polled every 5 ms). At the end: the consumer
group read every bar once (entries-read = bars, nothing pending), the engines' processed counters
add up to the bars, and each stream's signals ran under non-decreasing versions in bar order.

    python3 loadtest/engine-config-switch.py [--bin .build/release/bedrock] [--bars 6000] [--rate 400]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_bench import REPO, Stack, call, machine, percentiles  # noqa: E402

sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import free_port  # noqa: E402


def gauge(port: int, name: str) -> float | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(REPO / ".build" / "release" / "bedrock"))
    ap.add_argument("--bars", type=int, default=6000)
    ap.add_argument("--rate", type=int, default=400, help="bars per second fed while switching")
    ap.add_argument("--changes", type=int, default=10)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="engine-switch-"))
    fast = {"engine": {"discover_interval_ms": 100, "lease_ms": 1000, "claim_idle_ms": 500}}
    a = Stack(args.bin, work / "a", None, fast)
    second = None
    try:
        config_b = json.loads(a.config.read_text())
        port_b = free_port()
        (work / "b").mkdir()
        (work / "b" / "gateway.json").write_text(json.dumps(config_b))
        second = subprocess.Popen([args.bin, "serve", "--config", str(work / "b" / "gateway.json"), "--port", str(port_b)],
                                  cwd=work / "b", env=a.env, stdout=open(work / "b" / "gateway.log", "w"),
                                  stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                gauge(port_b, "bedrock_engine_config_version")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the second gateway did not start")
                time.sleep(0.1)
        sample = work / "sample"
        subprocess.run([args.bin, "sample-data", "--out", str(sample), "--bars", str(args.bars), "--seed", "9"],
                       check=True, capture_output=True, env=a.env, cwd=work)
        csv = sample / "BTCUSDT-1h.csv"
        feeder = subprocess.Popen([args.bin, "replay", "--data", str(csv), "--market", "BTCUSDT", "--interval", "1h",
                                   "--speed", str(args.rate), "--redis", a.url], env=a.env, cwd=work,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        admin = a.token("ADMIN")
        conn = a.connection()
        live: list[float] = []
        time.sleep(1.0)  # let bars flow first: the switches land mid-stream (not a wait for a condition)
        for i in range(args.changes):
            status, body = call(conn, "POST", "/v1/engine/config", admin, {"arbiter": {"threshold": 55 + (i % 2) * 10}})
            assert status == 200, body
            t0 = time.monotonic()
            version = body["version"]
            while not all(gauge(p, "bedrock_engine_config_version") == version for p in (a.port, port_b)):
                if time.monotonic() - t0 > 30:
                    raise RuntimeError(f"version {version} not live on both gateways after 30 s")
                time.sleep(0.005)
            live.append(time.monotonic() - t0)
            time.sleep(0.3)
        feeder.wait(600)
        key = "bedrock:stream:klines:BTCUSDT:1h"
        deadline = time.monotonic() + 300
        while True:
            info = a.r.execute("XINFO", "GROUPS", key)
            group = {g[i].decode() if isinstance(g[i], bytes) else g[i]: g[i + 1] for g in info for i in range(0, len(g), 2)}
            if int(group.get("entries-read") or 0) >= args.bars and int(group["pending"]) == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"bars not all processed: {group}")
            time.sleep(0.2)
        time.sleep(2.5)  # /metrics refreshes the engine counters every ~2 s
        processed = sum(gauge(p, "bedrock_engine_bars_processed_total") or 0 for p in (a.port, port_b))
        viewer = a.token("VIEWER")
        conn = a.connection()  # the keep-alive one may have idled out
        signals, offset = [], 0
        while True:
            status, page = call(conn, "GET", f"/v1/signals?limit=100&offset={offset}", viewer)
            signals += page["data"]
            offset += 100
            if offset >= page["total"]:
                break
        versions = [s["config_version"] for s in sorted(signals, key=lambda s: s["bar_time"])]
        print(json.dumps({
            "machine": machine(),
            "binary": args.bin, "bars": args.bars, "rate_bars_per_s": args.rate,
            "live_on_both_gateways_s": {k: round(v, 3) if isinstance(v, float) else v for k, v in percentiles(live).items()},
            "entries_read": int(group["entries-read"]), "pending": int(group["pending"]),
            "bars_processed_by_the_two_engines": processed,
            "signals": len(signals), "versions_in_bar_order_non_decreasing": versions == sorted(versions),
        }, indent=2))
        assert processed == args.bars, "a bar was processed twice or skipped"
        assert versions == sorted(versions)
    finally:
        if second is not None:
            second.terminate()
            second.wait(15)
        a.stop()


if __name__ == "__main__":
    main()
