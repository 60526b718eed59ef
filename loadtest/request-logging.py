#!/usr/bin/env python3
"""The cost of one access line per HTTP answer (docs/ops/LOGS.md): `GET /v1/positions/estimate`
with a VIEWER token through wrk (loadtest/wrk/estimate.lua, `-t2 -c50`) against a fresh release
gateway with `log.format=json` and `log.requests` true, then false, alternating for `--rounds`
rounds (the order flipped each round, so drift on a shared machine falls on both). The log goes to
a file, as under a service manager. Prints each run, the medians and the cost in %, and checks
that the logged run wrote one `http request` line per answer.

    .build-py/venv/bin/python loadtest/request-logging.py [--bin .build/release/bedrock] [--rounds 3] \
        [--duration 10] [--json FILE]

(the venv of the integration tests: the script reuses their helpers).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import free_port  # noqa: E402
from resp import wait_for_redis  # noqa: E402

SECRET = "bench-secret-0123456789abcdef0123456789abcd"
ESTIMATE = re.compile(r"^estimate: requests=(\d+) non_2xx=(\d+) socket_errors=(\d+) p50_ms=(\S+) .*p99_ms=(\S+)", re.M)


def gateway_env(requests: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    env.update(BEDROCK_JWT_SECRET=SECRET, BEDROCK_LOG_FORMAT="json", BEDROCK_LOG_LEVEL="info",
               BEDROCK_LOG_REQUESTS="true" if requests else "false")
    return env


def run(args, work: Path, redis_port: int, requests: bool) -> dict:
    port = free_port()
    data = work / f"data-{port}"
    data.mkdir()
    log = work / f"gateway-{port}.log"
    cmd = [args.bin, "serve", "--config", str(REPO / "config" / "bedrock.json"), "--port", str(port),
           "--redis", f"redis://127.0.0.1:{redis_port}", "--data-dir", str(data)]
    with open(log, "wb") as out:
        gw = subprocess.Popen(cmd, env=gateway_env(requests), stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, cwd=REPO)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or gw.poll() is not None:
                    raise SystemExit(f"gateway did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.1)
        token = subprocess.run([args.bin, "token", "--config", str(REPO / "config" / "bedrock.json"),
                                "--data-dir", str(data), "--sub", "bench-logs", "--role", "VIEWER"],
                               env=gateway_env(requests), capture_output=True, text=True, check=True,
                               cwd=REPO).stdout.split()[-1]
        before = cpu_seconds(gw.pid)
        wrk = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                              "-s", str(REPO / "loadtest" / "wrk" / "estimate.lua"), f"http://127.0.0.1:{port}"],
                             env={**os.environ, "BEDROCK_TOKEN": token}, capture_output=True, text=True,
                             check=True)
        cpu = cpu_seconds(gw.pid) - before
    finally:
        gw.terminate()
        gw.wait(15)
    m = ESTIMATE.search(wrk.stdout)
    if not m:
        raise SystemExit(f"no estimate line from wrk:\n{wrk.stdout}\n{wrk.stderr}")
    answered, non_2xx, errors = int(m.group(1)), int(m.group(2)), int(m.group(3))
    rate = float(re.search(r"Requests/sec:\s+(\S+)", wrk.stdout).group(1))
    lines = sum(1 for line in log.read_text(errors="replace").splitlines() if '"msg":"http request"' in line)
    return {"log_requests": requests, "req_s": rate, "requests": answered, "non_2xx": non_2xx,
            "socket_errors": errors, "p50_ms": float(m.group(4)), "p99_ms": float(m.group(5)),
            "gateway_cpu_s": round(cpu, 2), "access_lines": lines, "log_bytes": log.stat().st_size}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=str(REPO / ".build" / "release" / "bedrock"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--json", help="write every run and the summary to this file")
    args = p.parse_args()
    assert shutil.which("wrk"), "wrk is not installed (apt-get install wrk)"
    work = Path(tempfile.mkdtemp(prefix="bedrock-logbench."))
    redis_port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(work)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    runs = []
    try:
        wait_for_redis(port=redis_port)
        for round_ in range(args.rounds):
            for requests in ((True, False) if round_ % 2 == 0 else (False, True)):
                r = run(args, work, redis_port, requests)
                runs.append(r)
                print(f"round {round_ + 1} log.requests={str(requests).lower():5} {r['req_s']:>10,.0f} req/s  "
                      f"p50 {r['p50_ms']:.2f} / p99 {r['p99_ms']:.2f} ms  gateway CPU {r['gateway_cpu_s']:.1f} s  "
                      f"lines {r['access_lines']:,} ({r['log_bytes'] / 1e6:.1f} MB)  non-2xx {r['non_2xx']}",
                      flush=True)
                if requests and r["access_lines"] < r["requests"]:
                    raise SystemExit(f"{r['requests']} answers but {r['access_lines']} access lines")
                if not requests and r["access_lines"]:
                    raise SystemExit("access lines written with log.requests=false")
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    on = statistics.median(r["req_s"] for r in runs if r["log_requests"])
    off = statistics.median(r["req_s"] for r in runs if not r["log_requests"])
    cpu_on = statistics.median(r["gateway_cpu_s"] / r["requests"] for r in runs if r["log_requests"]) * 1e6
    cpu_off = statistics.median(r["gateway_cpu_s"] / r["requests"] for r in runs if not r["log_requests"]) * 1e6
    summary = {"req_s_logged": on, "req_s_unlogged": off, "cost_percent": round((off - on) / off * 100, 1),
               "cpu_us_per_request_logged": round(cpu_on, 1), "cpu_us_per_request_unlogged": round(cpu_off, 1)}
    print(f"median: log.requests=true {on:,.0f} req/s, false {off:,.0f} req/s: cost {summary['cost_percent']} % "
          f"(gateway CPU per request {cpu_on:.1f} vs {cpu_off:.1f} µs)")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "summary": summary}, indent=2) + "\n")


if __name__ == "__main__":
    main()
