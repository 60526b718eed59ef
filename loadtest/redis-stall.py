#!/usr/bin/env python3
"""Answer times while Redis hangs (docs/REDIS_BRIDGE.md, "When Redis hangs"): a fresh redis-server
and gateway; Redis is frozen with SIGSTOP for `--stop` seconds; at its start `--concurrent` clients
send `GET /v1/account` at once (the first wave, which finds Redis hanging), a second wave follows
once the first is answered (Redis now known down), and one client sends `GET /v1/strategies` (no
Redis) back to back the whole time. Prints each wave's answers and worst time from its own
sending, the Redis-free percentiles, and how long after SIGCONT `/v1/account` answers 200 again.

    loadtest/redis-stall.py [--bin .build/release/bedrock] [--timeout-ms 2000] [--concurrent 60] [--stop 12]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import free_port  # noqa: E402
from resp import wait_for_redis  # noqa: E402


def get(port: int, path: str, token: str, start: threading.Barrier | None = None):
    """(status or None, seconds from sending to the answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.connect()
        if start:
            start.wait()
        sent = time.monotonic()
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            return response.status, time.monotonic() - sent
        except OSError:
            return None, time.monotonic() - sent
    finally:
        conn.close()


def wave(port: int, token: str, n: int):
    start = threading.Barrier(n)
    out = [None] * n

    def one(i):
        out[i] = get(port, "/v1/account", token, start)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def describe(name: str, answers) -> None:
    statuses = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    times = sorted(s for _, s in answers)
    print(f"{name}: {len(answers)} requests, statuses {statuses}, "
          f"fastest {times[0] * 1000:.0f} ms, median {times[len(times) // 2] * 1000:.0f} ms, "
          f"worst {times[-1] * 1000:.0f} ms from sending")


def redis_free(port: int, token: str, done, results) -> None:
    """`GET /v1/strategies` back to back on one keep-alive connection until `done`; puts the
    answer times on `results`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    while not done.is_set():
        sent = time.monotonic()
        conn.request("GET", "/v1/strategies", headers={"Authorization": f"Bearer {token}"})
        conn.getresponse().read()
        times.append(time.monotonic() - sent)
    conn.close()
    results.put(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / ".build" / "release" / "bedrock"))
    ap.add_argument("--timeout-ms", type=int, default=2000, help="redis.command_timeout_ms (0: leave unset)")
    ap.add_argument("--concurrent", type=int, default=60)
    ap.add_argument("--stop", type=float, default=12, help="seconds Redis stays stopped")
    a = ap.parse_args()
    a.bin = str(Path(a.bin).resolve())
    work = Path(tempfile.mkdtemp(prefix="redis-stall-"))
    rport, gport = free_port(), free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", str(work),
                              "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    data = work / "data"
    data.mkdir()
    cfg = work / "gw.json"
    config = {"mode": "dev", "data_dir": str(data), "jwt": {"secret": "x" * 40},
              "server": {"public_dir": str(REPO / "public")},
              "redis": {"url": f"redis://127.0.0.1:{rport}"}}
    if a.timeout_ms:
        config["redis"]["command_timeout_ms"] = a.timeout_ms
    cfg.write_text(json.dumps(config))
    gateway = None
    stopped = False
    try:
        wait_for_redis(port=rport)
        gateway = subprocess.Popen([a.bin, "serve", "--config", str(cfg), "--port", str(gport)], cwd=work, env=env,
                                   stdout=open(work / "gw.log", "w"), stderr=subprocess.STDOUT)
        token = subprocess.run([a.bin, "token", "--config", str(cfg), "--data-dir", str(data), "--sub", "m",
                                "--role", "VIEWER"], cwd=work, env=env, capture_output=True, text=True,
                               check=True).stdout.split()[-1]
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(gport, "/v1/account", token)[0] == 200:
                    break
            except OSError:
                pass  # not listening yet
            assert time.monotonic() < deadline, "the gateway did not answer /v1/account"
            time.sleep(0.1)

        # The Redis-free client runs in a process of its own: in this one, the 60 client threads
        # would hold it up (the GIL) and the figures would be the client's.
        results = multiprocessing.Queue()
        done = multiprocessing.Event()
        prober = multiprocessing.Process(target=redis_free, args=(gport, token, done, results))
        os.kill(redis.pid, signal.SIGSTOP)
        stopped = True
        stopped_at = time.monotonic()
        prober.start()
        describe("first wave (Redis just stopped)", wave(gport, token, a.concurrent))
        describe("second wave (Redis known down)", wave(gport, token, a.concurrent))
        time.sleep(max(0.0, a.stop - (time.monotonic() - stopped_at)))
        done.set()
        free = results.get()
        prober.join()
        os.kill(redis.pid, signal.SIGCONT)
        stopped = False
        resumed = time.monotonic()
        while get(gport, "/v1/account", token)[0] != 200:
            time.sleep(0.01)
        free.sort()
        print(f"GET /v1/strategies while stopped: {len(free)} requests, p50 {free[len(free) // 2] * 1000:.2f} ms, "
              f"p99 {free[int(len(free) * 0.99)] * 1000:.2f} ms, worst {free[-1] * 1000:.2f} ms")
        print(f"GET /v1/account answered 200 again {(time.monotonic() - resumed) * 1000:.0f} ms after SIGCONT")
    finally:
        if stopped:
            os.kill(redis.pid, signal.SIGCONT)
        if gateway:
            gateway.terminate()
            gateway.wait(20)
        redis.terminate()
        redis.wait(5)


if __name__ == "__main__":
    main()
