#!/usr/bin/env python3
"""Presence over two gateways (SPEC §14 target: `GET /v1/presence` < 50 ms with 10,000
connections): a fresh redis-server, two release gateways sharing it, the load generator holding
half the connections on each (every connection a distinct user), then `--calls` timed
`GET /v1/presence` calls (and as many with `?topic=signals`) on alternate gateways.

    loadtest/presence-latency.py [--bin-dir .build/release] [--connections 10000] [--calls 200] [--json F]

Each call is timed client side, from sending the request on a fresh connection to the last byte
of the answer. Prints p50/p99/max per variant, the answer's size and the machine.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import resource
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench_http import timed_get

REPO = Path(__file__).resolve().parents[1]
SECRET = "presence-bench-secret-0123456789abcdef01"
TARGET_MS = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_jwt(claims: dict, secret: str) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())}"


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=str(REPO / ".build" / "release"))
    ap.add_argument("--connections", type=int, default=10_000)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--json")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the children inherit it
    bindir = Path(a.bin_dir).resolve()
    work = Path(tempfile.mkdtemp(prefix="presence-bench-"))
    rport = free_port()
    procs: list[subprocess.Popen] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    env.update({"BEDROCK_JWT_SECRET": SECRET, "BEDROCK_SERVER_MAX_CONNECTIONS": "20000"})
    try:
        procs.append(subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", str(work),
                                       "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL))
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            data = work / f"data{n}"
            data.mkdir()
            procs.append(subprocess.Popen(
                [str(bindir / "bedrock"), "serve", "--config", str(REPO / "config" / "bedrock.json"), "--port", str(port),
                 "--redis", f"redis://127.0.0.1:{rport}", "--data-dir", str(data)],
                cwd=REPO, env=env, stdout=open(work / f"gw{n}.log", "w"), stderr=subprocess.STDOUT))
        admin = make_jwt({"sub": "bench-admin", "role": "ADMIN", "iat": int(time.time()) - 5,
                          "exp": int(time.time()) + 3600}, SECRET)
        for port in ports:
            wait_for(lambda: timed_get(port, "/health", admin)[1] == 200, 30, f"the gateway on {port}")
        half = a.connections // 2
        for n, port in enumerate(ports):
            procs.append(subprocess.Popen(
                [str(bindir / "loadtest"), "hold", "--connections", str(half), "--duration", "3600", "--port", str(port),
                 "--client", "raw", "--subjects", str(half), "--subject-prefix", f"gw{n}-user-", "--timeout", "300",
                 "--quiet"], env=env, stdout=open(work / f"load{n}.log", "w"), stderr=subprocess.STDOUT))
        t0 = time.monotonic()

        def all_present():
            _, status, body = timed_get(ports[0], "/v1/presence", admin)
            return status == 200 and json.loads(body)["total_connections"] >= 2 * half

        wait_for(all_present, 300, f"{2 * half} connections in presence")
        print(f"{2 * half} connections held and present after {time.monotonic() - t0:.1f} s")
        results = {}
        # `hold` connections subscribe to nothing: the topic variant measures the filter's cost alone.
        for name, path in [("presence", "/v1/presence"), ("presence?topic=signals", "/v1/presence?topic=signals")]:
            times, size = [], 0
            for call in range(a.calls):
                ms, status, body = timed_get(ports[call % 2], path, admin)
                if status != 200:
                    raise SystemExit(f"{path}: {status} {body[:200]!r}")
                times.append(ms)
                size = len(body)
            answer = json.loads(body)
            results[name] = {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 99), 2),
                             "max_ms": round(max(times), 2), "bytes": size, "users": len(answer["users"]),
                             "total_connections": answer["total_connections"], "gateways": answer["gateways"]}
            r = results[name]
            print(f"{name:24} p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  max {r['max_ms']:7.2f} ms  "
                  f"{r['bytes']:>9} bytes  {r['users']} users, {r['total_connections']} connections, "
                  f"{r['gateways']} gateways")
        model = subprocess.run("lscpu | grep 'Model name' | sed 's/.*: *//'", shell=True, capture_output=True,
                               text=True).stdout.strip()
        machine = {"nproc": os.cpu_count(), "cpu": model, "loadavg": open("/proc/loadavg").read().split()[:3]}
        print(f"machine: {machine['nproc']} cores, {machine['cpu']}, load {' '.join(machine['loadavg'])}")
        if a.json:
            whole = results["presence"]
            flat = {"presence p50": whole["p50_ms"], "presence p99": whole["p99_ms"], "presence max": whole["max_ms"],
                    "answer bytes": whole["bytes"], "users": whole["users"],
                    "topic filter p50": results["presence?topic=signals"]["p50_ms"],
                    "topic filter p99": results["presence?topic=signals"]["p99_ms"]}
            failures = [] if whole["p99_ms"] < TARGET_MS else [f"p99 {whole['p99_ms']} ms over {TARGET_MS} ms"]
            json.dump({"scenario": "presence", "parameters": {"connections": 2 * half, "calls": a.calls,
                                                             "loadavg": " ".join(machine["loadavg"])},
                       "results": flat, "units": {k: "ms" for k in flat if "p" in k.split()[-1] or "max" in k},
                       "failures": failures, "passed": not failures}, open(a.json, "w"), indent=2)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
