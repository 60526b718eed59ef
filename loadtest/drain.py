#!/usr/bin/env python3
"""Drain of many connections on SIGTERM (docs/ops/DRAIN.md): a redis-server and two gateways (A
and B) on it; `--connections` clients (default 5,000, spread over `--procs` processes of asyncio
clients) connect to A and subscribe to `signals`; a publisher appends numbered events at
`--rate`/s the whole time; `--after` s in, A gets SIGTERM. Each client reads until its socket
closes, connects to B and subscribes with `since` = the last id it saw, and reads until the last
event. Prints: how many were closed with 1001 and when (from the signal: median, last), when A
exited, how long the reconnects took, and events lost / duplicated over all clients (must be 0).

    loadtest/drain.py [--bin .build/release/bedrock] [--connections 5000] [--procs 4]
                      [--rate 5] [--events 60] [--after 4] [--json FILE]

Raises its own open-file limit to the hard limit (each client is one descriptor, each gateway
raises its own).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import JWT_SECRET, RedisServer, free_port, make_jwt  # noqa: E402
from resp import Redis  # noqa: E402

TOPIC = "signals"
STREAM = "bedrock:stream:" + TOPIC


def raise_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- clients (child processes) -----------------------------------------------------------------

async def follow(urls: list[str], events: int, gate: asyncio.Semaphore, ready: asyncio.Queue) -> dict:
    """One client: A until it closes, then B with `since`, until the last event."""
    import websockets
    from websockets.exceptions import ConnectionClosed

    seen: list[int] = []
    last_id: str | None = None
    out = {"close_code": None, "closed_at": None, "reconnected_at": None, "errors": 0, "recovered": None}
    for attempt, url in enumerate(urls):
        async with gate:
            ws = await websockets.connect(url, subprotocols=["bedrock.v1"], compression=None, ping_interval=None,
                                          max_queue=None, max_size=None, open_timeout=120, close_timeout=10)
            msg = {"type": "subscribe", "id": 1, "topic": TOPIC}
            if last_id is not None:
                msg["since"] = last_id
            await ws.send(json.dumps(msg))
            subscribed = False
            while not subscribed:
                for line in (await ws.recv()).split("\n"):
                    f = json.loads(line)
                    if f.get("type") == "subscribed":
                        subscribed = True
                        if last_id is not None:
                            out["recovered"] = f["recovered"]
                    elif f.get("type") == "event":
                        seen.append(f["data"]["n"]); last_id = f["id"]
                    elif f.get("type") == "error":
                        out["errors"] += 1
        if attempt == 0:
            await ready.put(1)
        else:
            out["reconnected_at"] = time.time()
        try:
            while not (seen and seen[-1] == events - 1):
                for line in (await ws.recv()).split("\n"):
                    f = json.loads(line)
                    kind = f.get("type")
                    if kind == "event":
                        seen.append(f["data"]["n"]); last_id = f["id"]
                    elif kind == "ping":
                        await ws.send('{"type":"pong"}')
                    elif kind == "error":
                        out["errors"] += 1
        except ConnectionClosed as e:
            out["close_code"] = e.rcvd.code if e.rcvd is not None else None
            out["closed_at"] = time.time()
            continue
        await ws.close()
        break
    out["lost"] = events - len(set(seen))
    out["duplicated"] = len(seen) - len(set(seen))
    return out


def client_process(urls: list[str], count: int, events: int, concurrency: int, ready_q, result_q) -> None:
    raise_file_limit()

    async def main() -> None:
        gate = asyncio.Semaphore(concurrency)
        ready: asyncio.Queue = asyncio.Queue()

        async def report_ready() -> None:
            for _ in range(count):
                await ready.get()
            ready_q.put(count)

        reporter = asyncio.create_task(report_ready())
        results = await asyncio.gather(*(follow(urls, events, gate, ready) for _ in range(count)),
                                       return_exceptions=True)
        reporter.cancel()
        result_q.put([r if isinstance(r, dict) else {"failure": repr(r)} for r in results])

    asyncio.run(main())


# -- the run (parent) ----------------------------------------------------------------------------

def start_gateway(bin_path: str, work: Path, name: str, redis_url: str) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    d = work / name
    (d / "data").mkdir(parents=True)
    (d / "public").mkdir()
    cfg = {"mode": "dev", "data_dir": str(d / "data"), "redis": {"url": redis_url}, "jwt": {"secret": JWT_SECRET},
           "server": {"host": "127.0.0.1", "port": port, "public_dir": str(d / "public"), "max_connections": 20000,
                      "max_connections_per_user": 20000}}  # every client is `drain`
    (d / "cfg.json").write_text(json.dumps(cfg))
    log = d / "gateway.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    proc = subprocess.Popen([bin_path, "serve", "--config", str(d / "cfg.json")], cwd=d, env=env,
                            stdin=subprocess.DEVNULL, stdout=log.open("w"), stderr=subprocess.STDOUT)
    import urllib.request
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return proc, port, log
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"gateway {name} did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = REPO / ".build" / "release" / "bedrock"
    ap.add_argument("--bin", default=str(default_bin if default_bin.exists() else REPO / ".build" / "debug" / "bedrock"))
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--rate", type=float, default=5.0, help="events per second")
    ap.add_argument("--events", type=int, default=60)
    ap.add_argument("--after", type=float, default=4.0, help="seconds of publishing before SIGTERM")
    ap.add_argument("--concurrency", type=int, default=100, help="handshakes in flight per process")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.bin = str(Path(a.bin).resolve())
    limit = raise_file_limit()
    if limit < a.connections + 256:
        raise SystemExit(f"open-file limit {limit} too low for {a.connections} connections")

    work = Path(tempfile.mkdtemp(prefix="bedrock-drain-"))
    redis = RedisServer(work / "redis")
    redis.start()
    procs: list[subprocess.Popen] = []
    try:
        gw_a, port_a, log_a = start_gateway(a.bin, work, "a", redis.url)
        procs.append(gw_a)
        gw_b, port_b, _ = start_gateway(a.bin, work, "b", redis.url)
        procs.append(gw_b)
        token = make_jwt({"sub": "drain", "role": "VIEWER", "exp": int(time.time()) + 3600})
        urls = [f"ws://127.0.0.1:{p}/ws?token={token}" for p in (port_a, port_b)]
        ctx = multiprocessing.get_context("spawn")
        ready_q, result_q = ctx.Queue(), ctx.Queue()
        shares = [a.connections // a.procs + (1 if i < a.connections % a.procs else 0) for i in range(a.procs)]
        clients = [ctx.Process(target=client_process, args=(urls, n, a.events, a.concurrency, ready_q, result_q))
                   for n in shares]
        connect_start = time.monotonic()
        for c in clients:
            c.start()
        connected = sum(ready_q.get(timeout=600) for _ in clients)
        connect_s = time.monotonic() - connect_start
        print(f"{connected} clients connected to A and subscribed in {connect_s:.1f} s", flush=True)

        published: list[str] = []

        def publish() -> None:
            with Redis(port=redis.port) as r:
                for n in range(a.events):
                    published.append(r.xadd(STREAM, json.dumps({"event_type": "bench", "n": n})))
                    time.sleep(1 / a.rate)

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        time.sleep(a.after)
        signalled_wall = time.time()
        signalled = time.monotonic()
        gw_a.send_signal(signal.SIGTERM)
        exit_code = gw_a.wait(120)
        exited_s = time.monotonic() - signalled
        results: list[dict] = []
        for _ in clients:
            results += result_q.get(timeout=600)
        for c in clients:
            c.join(30)
        publisher.join(60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(30)
        redis.stop()

    failures = [r["failure"] for r in results if "failure" in r]
    ok = [r for r in results if "failure" not in r]
    closes = [r["closed_at"] - signalled_wall for r in ok if r["close_code"] == 1001]
    reconnects = [r["reconnected_at"] - signalled_wall for r in ok if r["reconnected_at"]]
    server_line = next((line for line in log_a.read_text().splitlines() if "every connection closed" in line), "")
    figures = {
        "connections": a.connections, "connected": connected, "connect_s": round(connect_s, 1),
        "closed_1001": len(closes), "close_codes": sorted({str(r["close_code"]) for r in ok}),
        "close_p50_s": round(pct(closes, 0.5), 2), "close_last_s": round(max(closes, default=float("nan")), 2),
        "server_says": server_line.split("bedrock: ")[-1],
        "exit_code": exit_code, "exited_s": round(exited_s, 2),
        "reconnected": len(reconnects), "reconnect_p50_s": round(pct(reconnects, 0.5), 2),
        "reconnect_last_s": round(max(reconnects, default=float("nan")), 2),
        "recovered_false": sum(1 for r in ok if r["recovered"] is False),
        "events": a.events, "events_lost": sum(r["lost"] for r in ok),
        "events_duplicated": sum(r["duplicated"] for r in ok), "error_frames": sum(r["errors"] for r in ok),
        "client_failures": len(failures), "first_failures": failures[:3],
        "machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", "bin": a.bin,
    }
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=2) + "\n")
    passed = (len(closes) == a.connections and exit_code == 0 and figures["events_lost"] == 0
              and figures["events_duplicated"] == 0 and figures["error_frames"] == 0 and not failures)
    print("drain:", "passed" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
