"""Black-box tests of backtest and optimisation jobs (SPEC §4, §5, §8; issue 5): the real gateway
on a real redis-server, over the socket and REST.

Datasets live in the gateway's `jobs.data_dir`: a small synthetic market (`bedrock sample-data`)
for quick jobs and a long generated one for jobs that must still be running when a test cancels
them, disconnects, or kills the gateway.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import BEDROCK_BIN, RFC3339, stream_key, wait_until, write_wave_csv

SMALL = "BTCUSDT-1h.csv"
BIG = "long-1h.csv"
BIG_BARS = 1_500_000


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    return subprocess.run([str(BEDROCK_BIN), *args], capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("datasets")
    r = run("sample-data", "--out", str(d), "--bars", "3000", timeout=120)
    assert r.returncode == 0, r.stderr
    write_wave_csv(d / BIG, BIG_BARS)
    return d


def start(start_gateway, datasets, redis=None, server=None, **jobs):
    return start_gateway({"jobs": {"data_dir": str(datasets), **jobs}, "server": server or {}}, redis=redis)


def rest(gw, path: str, role: str = "VIEWER", method: str = "GET", body: dict | None = None, sub: str = "alice"):
    headers = {"Authorization": f"Bearer {gw.token(role, sub)}"}
    data = b"" if method == "POST" else None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, hdrs, raw = gw.http(method, path, headers, data, timeout=10)
    return status, hdrs, raw


def rest_json(gw, path: str, **kw):
    status, _, raw = rest(gw, path, **kw)
    return status, json.loads(raw) if raw else None


class Socket:
    def __init__(self, gw, role: str = "TRADER", sub: str = "alice"):
        self.ws, _ = gw.session(role, sub)
        self.n = 0

    def call(self, method: str, params: dict | None = None) -> dict:
        self.n += 1
        n = self.n
        self.ws.send({"type": "request", "id": n, "method": method, "params": params or {}})
        return self.ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == n,
                              skip=lambda f: True, timeout=10)

    def submit(self, params: dict, method: str = "backtest.submit") -> str:
        answer = self.call(method, params)
        assert answer["type"] == "response", answer
        assert answer["result"]["status"] == "PENDING"
        return answer["result"]["task_id"]

    def job_frames(self, task_id: str, timeout: float = 60) -> tuple[list[dict], dict]:
        """Progress frames and the completed frame of `task_id`, including frames already read
        (and skipped) while waiting for a response."""
        deadline = time.monotonic() + timeout
        while True:
            mine = [f for f in self.ws.seen if f.get("task_id") == task_id and f.get("type") in ("progress", "completed")]
            done = [f for f in mine if f["type"] == "completed"]
            if done:
                return [f for f in mine if f["type"] == "progress"], done[0]
            self.ws.recv(deadline - time.monotonic())

    def first_progress(self, task_id: str, above: float = 0.0, timeout: float = 30) -> dict:
        return self.ws.expect(lambda f: f.get("type") == "progress" and f.get("task_id") == task_id
                              and f["progress"] > above, skip=lambda f: True, timeout=timeout)

    def close(self):
        self.ws.close()


def wait_status(gw, task_id: str, wanted: str, timeout: float = 60) -> dict:
    def task() -> dict:
        status, body = rest_json(gw, f"/v1/backtest/status/{task_id}")
        assert status == 200, body
        return body

    def task_if_wanted() -> dict | None:
        body = task()
        return body if body["status"] == wanted else None

    return wait_until(task_if_wanted, timeout, f"task {task_id} to be {wanted}", interval=0.05, seen=task)


def test_submit_progress_completed_and_the_same_report_over_rest(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    s = Socket(gw)
    task = s.submit({"strategy": "sma_cross", "dataset": SMALL, "params": {"fast": 10, "slow": 30},
                     "initial_balance": 10000, "commission": 0.001, "slippage": 0.0005})
    progress, done = s.job_frames(task)
    values = [p["progress"] for p in progress]
    assert values and values == sorted(values) and values[-1] == 1 and all(0 <= v <= 1 for v in values)
    assert done["status"] == "COMPLETED"
    report = done["report"]
    for key in ("strategy_name", "start_date", "end_date", "initial_balance", "final_balance", "total_trades",
                "win_rate", "profit_factor", "max_drawdown", "sharpe_ratio", "sortino_ratio", "calmar_ratio",
                "omega_ratio", "total_commission", "total_slippage", "roi", "exposure_pct", "parameters",
                "trades", "equity_curve"):
        assert key in report, key
    assert report["parameters"] == {"fast": 10, "slow": 30}
    assert report["total_trades"] == len(report["trades"]) > 0
    for t in report["trades"]:
        assert set(t) >= {"entry_time", "exit_time", "side", "entry_price", "exit_price", "size", "pnl",
                          "commission", "exit_reason"}
    status, rest_report = rest_json(gw, f"/v1/backtest/report/{task}")
    assert status == 200 and rest_report == report
    same = s.call("backtest.report", {"task_id": task})
    assert same["result"] == report
    status, st = rest_json(gw, f"/v1/backtest/status/{task}")
    assert status == 200 and st["status"] == "COMPLETED" and st["progress"] == 1 and st["owner"] == "alice"
    assert re.match(RFC3339, st["created_at"]) and re.match(RFC3339, st["finished_at"])


def test_export_formats_parse(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    status, _, raw = rest(gw, "/v1/backtest/submit", role="TRADER", method="POST",
                          body={"strategy": "sma_cross", "dataset": SMALL})
    assert status == 200, raw
    task = json.loads(raw)["task_id"]
    wait_status(gw, task, "COMPLETED")
    _, report = rest_json(gw, f"/v1/backtest/report/{task}")
    status, hdrs, body = rest(gw, f"/v1/backtest/report/{task}/export?format=csv")
    assert status == 200 and hdrs["content-type"].startswith("text/csv")
    assert hdrs["content-disposition"] == f'attachment; filename="backtest-{task}.csv"'
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == len(report["trades"]) > 0
    assert float(rows[0]["entry_price"]) == pytest.approx(report["trades"][0]["entry_price"])
    status, hdrs, body = rest(gw, f"/v1/backtest/report/{task}/export?format=json")
    assert status == 200 and hdrs["content-type"].startswith("application/json")
    assert hdrs["content-disposition"] == f'attachment; filename="backtest-{task}.json"'
    assert json.loads(body) == report
    status, _, body = rest(gw, f"/v1/backtest/report/{task}/export?format=xml")
    assert status == 400 and "json, csv or pdf" in json.loads(body)["message"]
    status, _, _ = rest(gw, "/v1/backtest/report/bt-unknown/export?format=csv")
    assert status == 404


def test_optimisation_ranks_parameter_sets(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    s = Socket(gw)
    task = s.submit({"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": [5, 10], "slow": [20, 40, 60]},
                     "metric": "roi"}, method="optimize.submit")
    _, done = s.job_frames(task)
    assert done["status"] == "COMPLETED", done
    results = done["report"]["results"]
    assert len(results) == 6 and [r["rank"] for r in results] == list(range(1, 7))
    rois = [r["roi"] for r in results]
    assert rois == sorted(rois, reverse=True)
    # Walk-forward and random search over REST.
    status, _, raw = rest(gw, "/v1/optimize/parameters", role="TRADER", method="POST",
                          body={"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": "5:15:5", "slow": [30, 50]},
                                "method": "random", "trials": 4, "metric": "sharpe_ratio", "walk_forward": 2})
    assert status == 200, raw
    task = json.loads(raw)["task_id"]
    wait_status(gw, task, "COMPLETED")
    _, report = rest_json(gw, f"/v1/backtest/report/{task}")
    assert report["walk_forward"] == 2 and len(report["folds"]) == 2 and report["ranking"]
    status, hdrs, body = rest(gw, f"/v1/backtest/report/{task}/export?format=csv")
    assert status == 200 and f"optimize-{task}.csv" in hdrs["content-disposition"]
    assert len(list(csv.DictReader(io.StringIO(body.decode())))) == len(report["ranking"])


def test_cancel_mid_run(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    s = Socket(gw)
    task = s.submit({"strategy": "sma_cross", "dataset": BIG})
    s.first_progress(task, above=0.0)
    t0 = time.monotonic()
    answer = s.call("backtest.cancel", {"task_id": task})
    assert answer["result"] == {"task_id": task, "status": "CANCELLED"}, answer
    _, done = s.job_frames(task, timeout=5)
    assert time.monotonic() - t0 < 1.0
    assert done["status"] == "CANCELLED" and done["reason"] == "cancelled"
    st = wait_status(gw, task, "CANCELLED", timeout=2)
    assert st["progress"] < 1
    status, body = rest_json(gw, f"/v1/backtest/report/{task}")
    assert status == 409 and body["error_code"] == "CONFLICT"
    # Cancelling again is idempotent; cancelling a COMPLETED job is a conflict.
    status, body = rest_json(gw, f"/v1/backtest/cancel/{task}", role="TRADER", method="POST")
    assert status == 200 and body == {"task_id": task, "status": "CANCELLED"}
    done = s.submit({"strategy": "sma_cross", "dataset": SMALL})
    assert s.job_frames(done)[1]["status"] == "COMPLETED"
    status, body = rest_json(gw, f"/v1/backtest/cancel/{done}", role="TRADER", method="POST")
    assert status == 409 and body["error_code"] == "CONFLICT"


def test_submitter_disconnects_mid_run(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    s = Socket(gw)
    task = s.submit({"strategy": "sma_cross", "dataset": BIG, "params": {"fast": 5, "slow": 50}})
    s.first_progress(task, above=0.0)
    s.close()
    st = wait_status(gw, task, "COMPLETED", timeout=100)
    assert st["progress"] == 1
    status, report = rest_json(gw, f"/v1/backtest/report/{task}")
    assert status == 200 and report["strategy_name"] == "sma_cross" and report["total_trades"] > 0
    assert len(report["equity_curve"]) <= 5000


def test_queue_limits(start_gateway, datasets):
    gw = start(start_gateway, datasets, workers=1, queue_max=3, per_user_max=2)
    body = {"strategy": "sma_cross", "dataset": BIG}
    tasks = []
    for sub in ("alice", "alice"):
        status, _, raw = rest(gw, "/v1/backtest/submit", role="TRADER", method="POST", body=body, sub=sub)
        assert status == 200, raw
        tasks.append((sub, json.loads(raw)["task_id"]))
    status, _, raw = rest(gw, "/v1/backtest/submit", role="TRADER", method="POST", body=body)
    assert status == 429 and json.loads(raw)["error_code"] == "RATE_LIMITED" and "per user" in json.loads(raw)["message"]
    s = Socket(gw, sub="bob")
    tasks.append(("bob", s.submit(body)))
    answer = Socket(gw, sub="carol").call("backtest.submit", body)
    assert answer["type"] == "error" and answer["error_code"] == "RATE_LIMITED", answer
    assert rest_json(gw, f"/v1/backtest/status/{tasks[1][1]}")[1]["status"] == "PENDING"
    for sub, task in tasks:
        status, _, raw = rest(gw, f"/v1/backtest/cancel/{task}", role="TRADER", method="POST", sub=sub)
        assert status == 200 and json.loads(raw)["status"] == "CANCELLED", raw
    status, _, raw = rest(gw, "/v1/backtest/submit", role="TRADER", method="POST", body=body, sub="carol")
    assert status == 200, raw
    rest(gw, f"/v1/backtest/cancel/{json.loads(raw)['task_id']}", role="TRADER", method="POST", sub="carol")


def test_restart_during_a_job(start_gateway, datasets, redis_server):
    gw = start(start_gateway, datasets, redis=redis_server.url, workers=1)
    body = {"strategy": "sma_cross", "dataset": BIG}
    _, _, raw = rest(gw, "/v1/backtest/submit", role="TRADER", method="POST", body=body)
    running = json.loads(raw)["task_id"]
    _, _, raw = rest(gw, "/v1/backtest/submit", role="TRADER", method="POST", body=body)
    queued = json.loads(raw)["task_id"]
    wait_status(gw, running, "RUNNING")
    gw.stop(signal.SIGKILL)  # a crash: nothing marks the jobs
    with redis_server.client() as r:
        assert r.execute("HGET", f"bedrock:job:{running}", "status") == "RUNNING"
    gw2 = start(start_gateway, datasets, redis=redis_server.url)
    for task in (running, queued):
        st = wait_status(gw2, task, "FAILED", timeout=20)
        assert st["reason"] == "interrupted"
    # The owner hears of it on the user topic, from the gateway that swept them.
    for task in (running, queued):
        wait_until(lambda: completed_events(redis_server, task), 5, f"job.completed of {task}")
        assert completed_events(redis_server, task) == [
            {"task_id": task, "kind": "backtest", "status": "FAILED", "error": "interrupted"}]
    # A clean stop (SIGTERM) gives its running job server.drain_timeout_s to finish, then marks it.
    gw2.stop(signal.SIGTERM)
    gw2 = start(start_gateway, datasets, redis=redis_server.url, server={"drain_timeout_s": 0.5})
    _, _, raw = rest(gw2, "/v1/backtest/submit", role="TRADER", method="POST", body=body)
    task = json.loads(raw)["task_id"]
    wait_status(gw2, task, "RUNNING")
    assert gw2.stop() == 0
    # Its job.completed was written before the process ended (the user events are flushed at stop).
    assert completed_events(redis_server, task) == [
        {"task_id": task, "kind": "backtest", "status": "FAILED", "error": "interrupted"}]
    gw3 = start(start_gateway, datasets, redis=redis_server.url)
    st = rest_json(gw3, f"/v1/backtest/status/{task}")[1]
    assert st["status"] == "FAILED" and st["reason"] == "interrupted"


def completed_events(redis_server, task: str, sub: str = "alice") -> list[dict]:
    """The `job.completed` fields of `task` on `sub`'s user topic (envelope left out)."""
    with redis_server.client() as r:
        events = [json.loads(f["event"]) for _, f in r.xrange(stream_key("user:" + sub))]
    return [{k: v for k, v in e.items() if k not in ("event_type", "schema_version", "timestamp")}
            for e in events if e.get("event_type") == "job.completed" and e.get("task_id") == task]


def test_roles(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    viewer = Socket(gw, role="VIEWER", sub="vic")
    answer = viewer.call("backtest.submit", {"strategy": "sma_cross", "dataset": SMALL})
    assert answer["type"] == "error" and answer["error_code"] == "FORBIDDEN"
    status, _, _ = rest(gw, "/v1/backtest/submit", role="VIEWER", method="POST", body={"strategy": "sma_cross", "dataset": SMALL})
    assert status == 403
    status, _, _ = rest(gw, "/v1/optimize/parameters", role="VIEWER", method="POST", body={"strategy": "sma_cross"})
    assert status == 403
    owner = Socket(gw, sub="alice")
    task = owner.submit({"strategy": "sma_cross", "dataset": BIG})
    owner.first_progress(task)
    # Another trader may read it but not cancel it; an admin may cancel it.
    status, _, _ = rest(gw, f"/v1/backtest/cancel/{task}", role="TRADER", method="POST", sub="mallory")
    assert status == 403
    status, _, _ = rest(gw, f"/v1/backtest/cancel/{task}", role="VIEWER", method="POST", sub="alice")
    assert status == 403
    assert viewer.call("backtest.status", {"task_id": task})["result"]["status"] == "RUNNING"
    status, _, raw = rest(gw, f"/v1/backtest/cancel/{task}", role="ADMIN", method="POST", sub="root")
    assert status == 200 and json.loads(raw)["status"] == "CANCELLED"
    assert owner.job_frames(task, timeout=5)[1]["status"] == "CANCELLED"
    done = owner.submit({"strategy": "sma_cross", "dataset": SMALL})
    assert owner.job_frames(done)[1]["status"] == "COMPLETED"
    assert viewer.call("backtest.report", {"task_id": done})["type"] == "response"
    status, _, _ = rest(gw, f"/v1/backtest/report/{done}/export?format=csv", role="VIEWER", sub="vic")
    assert status == 200


@pytest.mark.parametrize("params, field", [
    ({}, "strategy is required; valid: oops, pullback, sma_cross"),
    ({"strategy": "moon", "dataset": SMALL}, "valid: oops, pullback, sma_cross"),
    ({"strategy": "sma_cross", "dataset": SMALL, "params": {"fast": 0}}, "'fast'"),
    ({"strategy": "sma_cross", "dataset": SMALL, "params": {"fast": 30, "slow": 20}}, "fast"),
    ({"strategy": "sma_cross", "dataset": SMALL, "params": {"speed": 1}}, "valid: fast"),
    ({"strategy": "sma_cross", "dataset": "../secret.txt"}, "dataset must be a file name"),
    ({"strategy": "sma_cross", "dataset": "/etc/passwd"}, "dataset must be a file name"),
    ({"strategy": "sma_cross", "dataset": "nope.csv"}, f"valid: {SMALL}"),
    ({"strategy": "sma_cross"}, "market (with interval) or dataset is required"),
    ({"strategy": "sma_cross", "market": "DOGE/USDT", "interval": "1h"}, "has no bars"),
    ({"strategy": "sma_cross", "dataset": SMALL, "commission": 1.5}, "commission must be a rate"),
    ({"strategy": "sma_cross", "dataset": SMALL, "initial_balance": 0}, "initial_balance must be a positive number"),
    ({"strategy": "sma_cross", "dataset": SMALL, "start_date": "soon"}, "start_date must be a date"),
    ({"strategy": "sma_cross", "dataset": SMALL, "start_date": "2024-02-01", "end_date": "2024-01-01"}, "end_date"),
])
def test_bad_parameters(start_gateway, datasets, params, field):
    gw = start(start_gateway, datasets)
    status, body = rest_json(gw, "/v1/backtest/submit", role="TRADER", method="POST", body=params)
    assert status == 400 and body["error_code"] == "BAD_REQUEST", body
    assert field in body["message"], body["message"]
    answer = Socket(gw).call("backtest.submit", params)
    assert answer["type"] == "error" and answer["error_code"] == "BAD_REQUEST" and answer["message"] == body["message"]


@pytest.mark.parametrize("params, field", [
    ({"strategy": "sma_cross", "dataset": SMALL}, "grid is required"),
    ({"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": [5]}, "metric": "luck"}, "valid: roi"),
    ({"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": [5]}, "method": "magic"}, "method must be grid, random or bayesian"),
    ({"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": [0]}}, "valid: fast"),
    ({"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": [5]}, "walk_forward": 99}, "walk_forward"),
])
def test_bad_optimisation_parameters(start_gateway, datasets, params, field):
    gw = start(start_gateway, datasets)
    status, body = rest_json(gw, "/v1/optimize/parameters", role="TRADER", method="POST", body=params)
    assert status == 400 and field in body["message"], body


def test_bars_from_the_klines_stream_with_a_date_range(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    with gw.redis() as r:
        for i in range(600):
            c = 100 + 10 * math.sin(i / 9.0)
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_704_067_200 + 3600 * i))
            r.xadd(stream_key("klines:ETHUSDT:1h"), json.dumps(
                {"event_type": "kline.closed", "market": "ETHUSDT", "interval": "1h", "open_time": ts,
                 "open": c, "high": c + 1, "low": c - 1, "close": c + 0.2, "volume": 5}))
    s = Socket(gw)
    # Any spelling of the market reads its canonical stream (SPEC §10).
    task = s.submit({"strategy": "sma_cross", "market": "eth-usdt", "interval": "1h",
                     "start_date": "2024-01-03", "end_date": "2024-01-20"})
    _, done = s.job_frames(task)
    assert done["status"] == "COMPLETED", done
    assert done["report"]["start_date"] == "2024-01-03T00:00:00Z"
    assert done["report"]["end_date"] == "2024-01-20T23:00:00Z"
    assert len(done["report"]["equity_curve"]) == 18 * 24


def test_metrics_count_jobs(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    s = Socket(gw)
    task = s.submit({"strategy": "sma_cross", "dataset": SMALL})
    assert s.job_frames(task)[1]["status"] == "COMPLETED"
    text = gw.metrics_with('bedrock_jobs_finished_total{kind="backtest",status="COMPLETED"} 1')
    assert "bedrock_backtests_run_total 1" in text and "bedrock_jobs_running 0" in text
