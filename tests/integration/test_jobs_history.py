"""Black-box tests of Bayesian optimisation, grids over the arbiter's settings and the risk per
trade, and the job history `backtest.jobs` (SPEC §15): the real gateway on a real redis-server,
over REST and the socket, with two users and an ADMIN.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import BEDROCK_BIN, wait_until

SMALL = "BTCUSDT-1h.csv"


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("datasets")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    r = subprocess.run([str(BEDROCK_BIN), "sample-data", "--out", str(d), "--bars", "3000"], capture_output=True,
                       text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture
def gw(start_gateway, datasets):
    return start_gateway({"jobs": {"data_dir": str(datasets), "workers": 2}})


def rest(gw, path: str, role: str = "VIEWER", sub: str = "alice", body: dict | None = None):
    headers = {"Authorization": f"Bearer {gw.token(role, sub)}"}
    data = None
    method = "GET"
    if body is not None:
        method = "POST"
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, _, raw = gw.http(method, path, headers, data, timeout=10)
    return status, json.loads(raw) if raw else None


def submit(gw, body: dict, sub: str = "alice", route: str = "/v1/optimize/parameters") -> str:
    status, answer = rest(gw, route, role="TRADER", sub=sub, body=body)
    assert status == 200, answer
    return answer["task_id"]


def completed_report(gw, task_id: str, timeout: float = 60) -> dict:
    def finished():
        status, body = rest(gw, f"/v1/backtest/status/{task_id}")
        assert status == 200, body
        assert body["status"] not in ("FAILED", "CANCELLED"), body
        return body if body["status"] == "COMPLETED" else None

    wait_until(finished, timeout, f"task {task_id} to complete", interval=0.05)
    status, report = rest(gw, f"/v1/backtest/report/{task_id}")
    assert status == 200, report
    return report


def trials_of(report: dict) -> list[tuple]:
    return sorted((tuple(sorted(r["parameters"].items())), r["score"]) for r in report["results"])


def test_bayesian_search_is_reproducible_for_a_seed_and_stays_on_the_grid(gw):
    body = {"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": "2:30", "slow": "30:90:5"},
            "method": "bayesian", "trials": 14, "seed": 11, "metric": "roi"}
    first = completed_report(gw, submit(gw, body))
    again = completed_report(gw, submit(gw, body))
    other = completed_report(gw, submit(gw, {**body, "seed": 12}))
    assert first["method"] == "bayesian" and first["trials"] == 14 and first["seed"] == 11
    assert first["evaluated"] == 14
    assert first["results"] == again["results"]
    assert trials_of(first) != trials_of(other)
    for r in first["results"] + other["results"]:
        fast, slow = r["parameters"]["fast"], r["parameters"]["slow"]
        assert isinstance(fast, int) and 2 <= fast <= 30, r
        assert isinstance(slow, int) and slow % 5 == 0 and 30 <= slow <= 90, r
    rois = [r["roi"] for r in first["results"]]
    assert rois == sorted(rois, reverse=True)


def test_bayesian_walk_forward_searches_each_fold(gw):
    report = completed_report(gw, submit(gw, {
        "strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": "2:20", "slow": "30:60:10"},
        "method": "bayesian", "trials": 6, "seed": 1, "walk_forward": 2, "metric": "roi"}))
    assert report["method"] == "bayesian" and report["candidates_per_fold"] == 6
    assert len(report["folds"]) == 2 and report["ranking"]


def test_grids_over_arbiter_settings_and_risk_per_trade_carry_the_keys(gw):
    report = completed_report(gw, submit(gw, {
        "strategy": "oops", "dataset": SMALL, "metric": "roi",
        "grid": {"arbiter.rule_weight": [1], "arbiter.ml_weight": [0.3], "arbiter.llm_weight": [0],
                 "arbiter.threshold": [0, 100], "risk_per_trade": [0.005, 0.02]}}))
    assert report["evaluated"] == 4 and report["failed"] == 0
    keys = {"arbiter.rule_weight", "arbiter.ml_weight", "arbiter.llm_weight", "arbiter.threshold", "risk_per_trade"}
    for r in report["results"]:
        assert set(r["parameters"]) == keys, r["parameters"]
    by = {(r["parameters"]["arbiter.threshold"], r["parameters"]["risk_per_trade"]): r for r in report["results"]}
    # Threshold 0 approves every entry, 100 (no rule score reaches it) none: the arbiter used the set's value.
    assert by[(0, 0.005)]["total_trades"] > 0 and by[(100, 0.005)]["total_trades"] == 0
    # The same entries sized by a different risk per trade end with a different result.
    assert by[(0, 0.005)]["total_trades"] == by[(0, 0.02)]["total_trades"]
    assert by[(0, 0.005)]["roi"] != by[(0, 0.02)]["roi"]
    # The CSV export names the columns alike.
    status, _, raw = gw.http("GET", f"/v1/backtest/report/{report_task(gw)}/export?format=csv",
                             {"Authorization": f"Bearer {gw.token('VIEWER')}"}, None, timeout=10)
    assert status == 200 and "arbiter.threshold" in raw.decode().splitlines()[0]


def report_task(gw) -> str:
    status, body = rest(gw, "/v1/backtest/jobs?kind=optimize&limit=1")
    assert status == 200, body
    return body["data"][0]["task_id"]


@pytest.mark.parametrize("body, field", [
    ({"grid": {"arbiter.threshold": [60]}, "arbiter": False}, "grid.arbiter.threshold"),
    ({"grid": {"arbiter.rule_weight": [0]}}, "grid.arbiter.rule_weight"),
    ({"grid": {"arbiter.ml_weight": [1.5]}}, "grid.arbiter.ml_weight"),
    ({"grid": {"arbiter.threshold": [101]}}, "grid.arbiter.threshold"),
    ({"grid": {"risk_per_trade": [0]}}, "grid.risk_per_trade"),
    # sma_cross entries have no stop: fixed-risk sizing could not size one, every set would be empty.
    ({"grid": {"risk_per_trade": [0.01, 0.02]}}, "grid.risk_per_trade cannot change a sma_cross backtest"),
    ({"grid": {"fast": [5, 10]}, "method": "simplex"}, "method"),
])
def test_bad_settings_and_method_are_refused_naming_the_field(gw, body, field):
    status, answer = rest(gw, "/v1/optimize/parameters", role="TRADER",
                          body={"strategy": "sma_cross", "dataset": SMALL, **body})
    assert status == 400 and answer["error_code"] == "BAD_REQUEST", answer
    assert answer["message"].startswith(field), answer
    status, history = rest(gw, "/v1/backtest/jobs", role="ADMIN", sub="root")
    assert status == 200 and history["total"] == 0


def test_job_history_per_user_and_for_an_admin_over_rest_and_the_socket(gw):
    backtest = {"strategy": "sma_cross", "dataset": SMALL, "params": {"fast": 10, "slow": 30}}
    alice = [submit(gw, backtest, route="/v1/backtest/submit"),
             submit(gw, {"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": [5, 10]}, "metric": "roi"}),
             submit(gw, backtest, route="/v1/backtest/submit")]
    bob = [submit(gw, backtest, sub="bob", route="/v1/backtest/submit")]
    reports = {t: completed_report(gw, t) for t in alice + bob}

    status, mine = rest(gw, "/v1/backtest/jobs")
    assert status == 200, mine
    assert mine["total"] == 3 and mine["page_size"] == 20 and mine["page"] == 1
    assert [j["task_id"] for j in mine["data"]] == alice[::-1]
    assert [j["created_at"] for j in mine["data"]] == sorted((j["created_at"] for j in mine["data"]), reverse=True)
    for job in mine["data"]:
        assert job["owner"] == "alice" and job["status"] == "COMPLETED" and job["progress"] == 1
        assert job["finished_at"] and job["summary"]["strategy"] == "sma_cross"
    first = mine["data"][2]
    assert first["kind"] == "backtest" and first["summary"]["params"] == {"fast": 10, "slow": 30}
    report = reports[alice[0]]
    assert first["metrics"] == {k: report[k] for k in first["metrics"]}
    assert set(first["metrics"]) >= {"roi", "sharpe_ratio", "max_drawdown", "win_rate", "total_trades"}
    opt = mine["data"][1]
    best = reports[alice[1]]["results"][0]
    assert opt["kind"] == "optimize" and opt["metrics"]["metric"] == "roi"
    assert opt["metrics"]["parameters"] == best["parameters"] and opt["metrics"]["score"] == best["score"]

    status, theirs = rest(gw, "/v1/backtest/jobs", sub="bob")
    assert status == 200 and [j["task_id"] for j in theirs["data"]] == bob and theirs["total"] == 1
    status, everyone = rest(gw, "/v1/backtest/jobs", role="ADMIN", sub="root")
    assert status == 200 and everyone["total"] == 4
    assert {j["task_id"] for j in everyone["data"]} == set(alice + bob)
    assert {j["owner"] for j in everyone["data"]} == {"alice", "bob"}

    status, optimizations = rest(gw, "/v1/backtest/jobs?kind=optimize")
    assert status == 200 and optimizations["total"] == 1 and optimizations["data"][0]["task_id"] == alice[1]
    status, page = rest(gw, "/v1/backtest/jobs?limit=2&offset=0")
    assert page["total"] == 3 and [j["task_id"] for j in page["data"]] == alice[:0:-1]
    status, page = rest(gw, "/v1/backtest/jobs?limit=2&offset=2")
    assert page["total"] == 3 and page["page_size"] == 2 and page["page"] == 2
    assert [j["task_id"] for j in page["data"]] == alice[:1]
    status, page = rest(gw, "/v1/backtest/jobs?offset=10")
    assert status == 200 and page["total"] == 3 and page["data"] == []

    # The socket answers the same for the same caller.
    ws, _ = gw.session("VIEWER", "bob")
    ws.send({"type": "request", "id": 1, "method": "backtest.jobs", "params": {"limit": 5}})
    answer = ws.expect(lambda f: f.get("id") == 1 and f.get("type") in ("response", "error"), skip=lambda f: True)
    assert answer["type"] == "response", answer
    assert answer["result"]["total"] == 1 and answer["result"]["data"] == theirs["data"]
    ws.send({"type": "request", "id": 2, "method": "backtest.jobs", "params": {"kind": "training"}})
    answer = ws.expect(lambda f: f.get("id") == 2 and f.get("type") in ("response", "error"), skip=lambda f: True)
    assert answer["type"] == "error" and answer["error_code"] == "BAD_REQUEST" and "kind" in answer["message"]
    ws.close()


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=abc", "limit"), ("limit=1.5", "limit"), ("offset=-1", "offset"),
    ("offset=x", "offset"), ("kind=bogus", "kind"),
])
def test_bad_history_paging_or_kind_is_refused(gw, query, field):
    status, answer = rest(gw, f"/v1/backtest/jobs?{query}")
    assert status == 400 and answer["error_code"] == "BAD_REQUEST", answer
    assert answer["message"].startswith(field), answer


def test_history_needs_a_token(gw):
    status, _, _ = gw.http("GET", "/v1/backtest/jobs", {}, None, timeout=10)
    assert status == 401
