#!/usr/bin/env python3
"""Events delivered or announced by `gap` frames, out of everything appended (docs/REDIS_BRIDGE.md,
"Trimmed before read"). Starts a redis-server and `bedrock serve` (default configuration, engine
on), one `bedrock watch` subscriber, then either

- `replay`:  `bedrock sample-data --bars N` and `bedrock replay --speed 0` into klines:BTCUSDT:1h
             (default `redis.stream_maxlen`), or
- `hostile`: N `XADD bedrock:stream:signals MAXLEN ~ 1000 * event {"n":i}` through
             `redis-cli --pipe`,

and counts the `watch` output: events delivered, entries inside the announced gaps (from the
hourly `open_time`s / the `n`s of each gap's `after` and `next`), and how many gaps. For `replay` it
also prints the engine's bars processed and `MARKET_DATA_GAP`s.

    loadtest/stream-gaps.py replay  [--bin .build/debug/bedrock] [--count 60000]
    loadtest/stream-gaps.py hostile [--bin .build/debug/bedrock] [--count 100000]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import JWT_SECRET, RedisServer, free_port  # noqa: E402
from resp import Redis  # noqa: E402


def millis(v) -> int:
    return v if isinstance(v, int) else int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1000)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("replay", "hostile"))
    ap.add_argument("--bin", type=lambda p: str(Path(p).resolve()), default=str(REPO / ".build" / "debug" / "bedrock"))
    ap.add_argument("--count", type=int)
    a = ap.parse_args()
    total = a.count or (60000 if a.mode == "replay" else 100000)
    work = Path(tempfile.mkdtemp(prefix="stream-gaps-"))
    redis = RedisServer(work / "redis")
    redis.start()
    port = free_port()
    cfg = {"mode": "dev", "data_dir": str(work / "data"),
           "server": {"host": "127.0.0.1", "port": port, "public_dir": str(REPO / "public")},
           "redis": {"url": redis.url}, "jwt": {"secret": JWT_SECRET}}
    (work / "data").mkdir()
    (work / "cfg.json").write_text(json.dumps(cfg))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    gw = subprocess.Popen([a.bin, "serve", "--config", str(work / "cfg.json")], cwd=work, env=env,
                          stdout=open(work / "gateway.log", "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        token = subprocess.run([a.bin, "token", "--config", str(work / "cfg.json"), "--sub", "gaps", "--role",
                                "VIEWER"], capture_output=True, text=True, cwd=work, check=True).stdout.strip()
        topic = "klines:BTCUSDT:1h" if a.mode == "replay" else "signals"
        watch = subprocess.Popen([a.bin, "watch", "--url", f"ws://127.0.0.1:{port}/ws", "--token", token,
                                  "--topic", topic], stdout=open(work / "watch.out", "w"),
                                 stderr=open(work / "watch.err", "w"), env=env)
        time.sleep(1.0)
        started = time.time()
        if a.mode == "replay":
            subprocess.run([a.bin, "sample-data", "--out", str(work / "sample"), "--bars", str(total)],
                           cwd=work, check=True, capture_output=True)
            subprocess.run([a.bin, "replay", "--data", str(work / "sample" / "BTCUSDT-1h.csv"), "--market",
                            "BTCUSDT", "--interval", "1h", "--speed", "0", "--redis", redis.url],
                           cwd=work, env=env, check=True, capture_output=True)
        else:
            commands = b"".join(Redis.encode("XADD", "bedrock:stream:signals", "MAXLEN", "~", 1000, "*", "event",
                                             json.dumps({"n": i})) for i in range(total))
            subprocess.run(["redis-cli", "-p", str(redis.port), "--pipe"], input=commands, check=True,
                           capture_output=True)
        published = time.time() - started
        size = -1
        while size != (work / "watch.out").stat().st_size:  # until watch prints nothing more for 2 s
            size = (work / "watch.out").stat().st_size
            time.sleep(2)
        watch.terminate()
        watch.wait()

        def engine() -> str:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
            return ", ".join(line for line in text.splitlines()
                             if line.startswith(("bedrock_engine_bars_processed_total",
                                                 "bedrock_engine_market_data_gaps_total")))

        metrics = ""
        while a.mode == "replay" and metrics != engine():  # until the engine has caught up
            metrics = engine()
            time.sleep(3)
    finally:
        gw.terminate()
        gw.wait()
        redis.stop()
    frames = [json.loads(line) for line in open(work / "watch.out") if line.strip()]
    position = {}
    for f in frames:
        if f["type"] == "event":
            position[f["id"]] = millis(f["data"]["open_time"]) // 3_600_000 if a.mode == "replay" else f["data"]["n"]
    gaps = [f for f in frames if f["type"] == "gap"]
    delivered = len(set(position.values()))
    if a.mode == "hostile":
        position.setdefault("0-0", -1)  # a gap before the first event: after = the subscribe position
    unknown = [g for g in gaps if g["after"] not in position]
    if unknown:
        sys.exit(f"gaps whose `after` was never delivered: {unknown[:3]}")
    inside = sum(position[g["next"]] - position[g["after"]] - 1 for g in gaps)
    print(f"{a.mode}: {delivered:,} delivered + {inside:,} inside {len(gaps)} gaps = {delivered + inside:,} "
          f"of {total:,} (published in {published:.1f} s)")
    if a.mode == "replay":
        print("  engine: " + metrics)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
