#!/usr/bin/env python3
"""Webhook delivery throughput and memory (docs/NOTIFICATIONS.md, docs/BENCHMARKS.md).

Starts its own redis-server and one `bedrock serve` (release by default) with one webhook on the
`signals` topic pointed at a fast local receiver, then:

  throughput  N events pre-published to `bedrock:stream:signals` (the webhook's consumer group is
              made first, at `$`, so the gateway finds all N waiting); deliveries/s = N over the
              time from the first delivery the receiver saw to the last. The receiver is one
              asyncio loop answering `200` with keep-alive as soon as a request's bytes are in
              (it parses only Content-Length and the event id); its CPU is reported so it can be
              seen not to be the bottleneck. Every event id must arrive exactly once.
  down        the webhook pointed at a port nobody listens on while events keep coming at RATE/s
              for DOWN_S seconds: the gateway's RSS sampled every 5 s (flat: the backlog is in
              Redis's retry set, whose size is reported).

  python3 loadtest/webhook-throughput.py [--events 20000] [--concurrency 8] [--rate 500]
                                         [--down-s 60] [--bin .build/release/bedrock] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from resp import Redis, wait_for_redis  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"
STREAM = "bedrock:stream:signals"
GROUP = "bedrock:notify:bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class FastReceiver:
    """200 at once, keep-alive, one asyncio loop in a thread; records each event id's arrival."""

    def __init__(self):
        self.port = 0
        self.ids: dict[str, int] = {}
        self.first = self.last = 0.0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        receiver = self

        class Proto(asyncio.Protocol):
            def connection_made(self, transport):
                self.t, self.buf = transport, b""

            def data_received(self, data):
                self.buf += data
                while True:
                    end = self.buf.find(b"\r\n\r\n")
                    if end < 0:
                        return
                    head = self.buf[:end].decode("latin-1")
                    length, event = 0, ""
                    for line in head.split("\r\n")[1:]:
                        name, _, value = line.partition(":")
                        name = name.strip().lower()
                        if name == "content-length":
                            length = int(value)
                        elif name == "x-bedrock-event-id":
                            event = value.strip()
                    if len(self.buf) < end + 4 + length:
                        return
                    self.buf = self.buf[end + 4 + length:]
                    now = time.monotonic()
                    if not receiver.ids:
                        receiver.first = now
                    receiver.last = now
                    receiver.ids[event] = receiver.ids.get(event, 0) + 1
                    self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(self.loop.create_server(Proto, "127.0.0.1", 0, backlog=256))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    def start(self) -> "FastReceiver":
        self.thread.start()
        self.ready.wait()
        return self


def event(n: int) -> str:
    return json.dumps({"event_type": "signal.created", "schema_version": "2.0",
                       "timestamp": "2026-01-01T00:00:00.000Z", "id": n, "market": "BTCUSDT", "side": "BUY",
                       "entry_price": 50000 + n, "stop_loss_price": 49000, "profit_target_price": 52000,
                       "strategy": "bench", "suggested_position_weight": 0.5}, separators=(",", ":"))


def start_gateway(binary: str, work: str, redis_port: int, url: str, concurrency: int) -> subprocess.Popen:
    port = free_port()
    data = tempfile.mkdtemp(dir=work)
    config = os.path.join(data, "bedrock.json")
    with open(config, "w") as f:
        json.dump({"mode": "dev", "jwt": {"secret": "b" * 40}, "server": {"public_dir": os.path.join(ROOT, "public")},
                   "log": {"level": "warning"},
                   "notifications": {"webhooks": [{"name": "bench", "url": url, "topics": ["signals"],
                                                   "secret": SECRET}],
                                     "concurrency": concurrency, "timeout_s": 5, "backoff_base_s": 1,
                                     "backoff_max_s": 30}}, f)
    proc = subprocess.Popen([binary, "serve", "--config", config, "--port", str(port), "--redis",
                             f"redis://127.0.0.1:{redis_port}", "--data-dir", data],
                            stdout=open(os.path.join(data, "gateway.log"), "wb"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"gateway did not start: {open(os.path.join(data, 'gateway.log')).read()}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rate", type=int, default=500)
    ap.add_argument("--down-s", type=float, default=60)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "bedrock"))
    ap.add_argument("--json")
    args = ap.parse_args()

    load = open("/proc/loadavg").read().split()[0]
    work = tempfile.mkdtemp(prefix="bedrock-webhook-bench.")
    redis_port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    results: dict = {}
    try:
        wait_for_redis(port=redis_port)
        r = Redis(port=redis_port)
        receiver = FastReceiver().start()

        # Throughput: the group first, then N events, then the gateway finds them all waiting.
        r.execute("XGROUP", "CREATE", STREAM, GROUP, "$", "MKSTREAM")
        for start in range(0, args.events, 1000):
            r.pipeline([("XADD", STREAM, "*", "event", event(n)) for n in range(start, min(args.events, start + 1000))])
        gateway = start_gateway(args.bin, work, redis_port, f"http://127.0.0.1:{receiver.port}/hook", args.concurrency)
        me = os.getpid()
        cpu0, gw_cpu0 = cpu_s(me), cpu_s(gateway.pid)
        deadline = time.monotonic() + 300
        while len(receiver.ids) < args.events and time.monotonic() < deadline:
            time.sleep(0.05)
        cpu1, gw_cpu1 = cpu_s(me), cpu_s(gateway.pid)
        span = max(receiver.last - receiver.first, 1e-9)
        delivered = len(receiver.ids)
        duplicates = sum(c - 1 for c in receiver.ids.values())
        results["throughput"] = {
            "events": args.events, "delivered": delivered, "duplicates": duplicates,
            "seconds": round(span, 3), "deliveries/s": round(delivered / span),
            "gateway CPU (% of a core)": round((gw_cpu1 - gw_cpu0) / span * 100),
            "receiver+driver CPU (% of a core)": round((cpu1 - cpu0) / span * 100),
            "concurrency": args.concurrency,
        }
        print(json.dumps(results["throughput"]), flush=True)
        stop(gateway)

        # Down: nothing listens at the URL; events keep coming; RSS sampled.
        down_url = f"http://127.0.0.1:{free_port()}/hook"
        r.execute("DEL", STREAM, "bedrock:notifications:retry:bench")
        r.execute("XGROUP", "CREATE", STREAM, GROUP, "$", "MKSTREAM")
        gateway = start_gateway(args.bin, work, redis_port, down_url, args.concurrency)
        samples = []
        t0 = time.monotonic()
        published = 0
        next_sample = t0
        while time.monotonic() - t0 < args.down_s:
            now = time.monotonic()
            due = int((now - t0) * args.rate) - published
            if due > 0:
                r.pipeline([("XADD", STREAM, "*", "event", event(published + n)) for n in range(due)])
                published += due
            if now >= next_sample:
                samples.append({"t": round(now - t0), "rss_mib": round(rss_kib(gateway.pid) / 1024, 1),
                                "retry_set": r.execute("ZCARD", "bedrock:notifications:retry:bench")})
                next_sample += 5
            time.sleep(0.02)
        samples.append({"t": round(time.monotonic() - t0), "rss_mib": round(rss_kib(gateway.pid) / 1024, 1),
                        "retry_set": r.execute("ZCARD", "bedrock:notifications:retry:bench")})
        stop(gateway)
        rss = [s["rss_mib"] for s in samples]
        results["down"] = {"rate/s": args.rate, "seconds": args.down_s, "published": published,
                           "rss_mib_first": rss[0], "rss_mib_after_10s": rss[min(2, len(rss) - 1)],
                           "rss_mib_last": rss[-1], "rss_mib_max": max(rss),
                           "retry_set_last": samples[-1]["retry_set"], "samples": samples}
        print(json.dumps({k: v for k, v in results["down"].items() if k != "samples"}), flush=True)
    finally:
        redis.terminate()
        redis.wait()
        shutil.rmtree(work, ignore_errors=True)
    t, d = results["throughput"], results["down"]
    growth = round(d["rss_mib_last"] - d["rss_mib_after_10s"], 1)
    failures = []
    if t["delivered"] != t["events"]:
        failures.append(f"{t['events'] - t['delivered']} events not delivered")
    if t["duplicates"]:
        failures.append(f"{t['duplicates']} duplicate deliveries")
    if t["deliveries/s"] < 1000:
        failures.append(f"{t['deliveries/s']} deliveries/s < 1,000")
    if growth > 5:
        failures.append(f"RSS grew {growth} MiB while the receiver was down")
    print("PASSED" if not failures else "FAILED: " + "; ".join(failures), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"scenario": "webhooks",
                       "parameters": {"events": args.events, "concurrency": args.concurrency, "down_rate": args.rate,
                                      "down_s": args.down_s, "loadavg_at_start": load},
                       "results": {"delivered events/s": t["deliveries/s"], "lost": t["events"] - t["delivered"],
                                   "duplicated": t["duplicates"], "server CPU": t["gateway CPU (% of a core)"],
                                   "receiver CPU": t["receiver+driver CPU (% of a core)"],
                                   "RSS down after 10 s": d["rss_mib_after_10s"], "RSS down last": d["rss_mib_last"],
                                   "RSS down growth": growth, "retry set at end": d["retry_set_last"],
                                   "down samples": d["samples"]},
                       "units": {"server CPU": "% of a core", "receiver CPU": "% of a core",
                                 "RSS down after 10 s": "MiB", "RSS down last": "MiB", "RSS down growth": "MiB"},
                       "failures": failures, "passed": not failures}, f, indent=2)
    sys.exit(1 if failures else 0)

if __name__ == "__main__":
    main()
