"""Black-box tests of the live engine's run-time configuration (SPEC §15, docs/ENGINE.md):
`GET /v1/engine`, `POST /v1/engine/config`, versions, deploy from an optimisation report,
pause/resume — on real gateways sharing one real redis-server, bars fed by `bedrock replay`.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from helpers import wait_until
from test_engine import FAST, MARKET, all_pages, check_no_duplicates, engine_group, replay, sample, wait_processed


def call(gw, method: str, path: str, role: str = "ADMIN", body: dict | None = None, sub: str = "ops"):
    headers = {"Authorization": f"Bearer {gw.token(role, sub)}"} if role else {}
    data = None
    if method == "POST":
        data = json.dumps(body if body is not None else {}).encode()
        headers["Content-Type"] = "application/json"
    status, _, raw = gw.http(method, path, headers, data, timeout=10)
    return status, (json.loads(raw) if raw else None)


def engine(gw) -> dict:
    status, body = call(gw, "GET", "/v1/engine", role="VIEWER")
    assert status == 200, body
    return body


def gauge(gw, name: str) -> float | None:
    for line in gw.http("GET", "/metrics")[2].decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def wait_version(gateways, version: int, timeout: float = 10) -> float:
    """Seconds until every gateway's engine shows `version` in /metrics."""
    t0 = time.monotonic()
    wait_until(lambda: all(gauge(g, "bedrock_engine_config_version") == version for g in gateways), timeout,
               f"every gateway's engine to apply version {version}", interval=0.05,
               seen=lambda: [gauge(g, "bedrock_engine_config_version") for g in gateways])
    return time.monotonic() - t0


def split(csv: Path, at: int, tmp_path: Path) -> tuple[Path, Path]:
    """The bars of `csv` before and from row `at`, as two files (one timeline fed in two parts)."""
    lines = csv.read_text().splitlines()
    head, rows = lines[0], lines[1:]
    first, second = tmp_path / "part1" / csv.name, tmp_path / "part2" / csv.name
    for path, part in ((first, rows[:at]), (second, rows[at:])):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([head, *part]) + "\n")
    return first, second


def test_roles_and_bad_input_change_nothing(start_gateway):
    gw = start_gateway(FAST)
    status, _ = call(gw, "GET", "/v1/engine", role=None)
    assert status == 401
    body = engine(gw)
    assert body["version"] == 0 and body["status"] == "running" and body["updated_by"] == "config"
    assert [s["name"] for s in body["strategies"]] == ["pullback", "oops"]
    # Every parameter is shown as the engine runs it (defaults filled in), on every market.
    pullback = body["strategies"][0]
    assert pullback["markets"] == ["*"] and pullback["params"]
    assert set(body["arbiter"]) == {"rule_weight", "ml_weight", "llm_weight", "threshold"}

    status, err = call(gw, "POST", "/v1/engine/config", role="TRADER", body={"arbiter": {"threshold": 50}})
    assert status == 403 and err["error_code"] == "FORBIDDEN"
    for bad, field in [
        ({"arbiter": {"threshold": 150}}, "arbiter.threshold"),
        ({"arbiter": {"rule_weight": 0}}, "arbiter.rule_weight"),
        ({"arbiter": {"ml_weight": "high"}}, "arbiter.ml_weight"),
        ({"arbiter": {"bias": 1}}, "arbiter.bias"),
        ({"strategies": [{"name": "martingale"}]}, "unknown strategy martingale"),
        ({"strategies": [{"name": "pullback", "params": {"nonsense": 3}}]}, "nonsense"),
        ({"strategies": [{"name": "sma_cross", "params": {"fast": -1}}]}, "fast"),
        ({"strategies": [{"name": "oops", "markets": ["not a market!"]}]}, "bad market"),
        ({"strategies": []}, "pause"),
        ({"strategies": "pullback"}, "strategies"),
        ({"risk_per_trade": 0.1}, "risk_per_trade"),
        ({}, "strategies"),
    ]:
        status, err = call(gw, "POST", "/v1/engine/config", body=bad)
        assert status == 400 and err["error_code"] == "BAD_REQUEST" and field in err["message"], (bad, err)
    assert engine(gw) == body, "a refused change stored nothing"
    status, page = call(gw, "GET", "/v1/engine/versions", role="VIEWER")
    assert status == 200 and page["total"] == 0 and page["data"] == []

    status, changed = call(gw, "POST", "/v1/engine/config", body={"arbiter": {"threshold": 55}}, sub="carol")
    assert status == 200, changed
    assert changed["version"] == 1 and changed["updated_by"] == "carol" and changed["arbiter"]["threshold"] == 55
    assert changed["strategies"] == body["strategies"], "an omitted part is kept"
    assert engine(gw) == changed
    status, page = call(gw, "GET", "/v1/engine/versions?limit=1", role="VIEWER")
    assert status == 200 and page["total"] == 1 and page["data"] == [changed]
    status, err = call(gw, "GET", "/v1/engine/versions?limit=0", role="VIEWER")
    assert status == 400 and "limit" in err["message"]


def test_a_change_reaches_every_gateway_and_the_next_signals(start_gateway, redis_server, tmp_path):
    a, b = start_gateway(FAST), start_gateway(FAST)
    ws, _ = b.session("TRADER", "watcher")
    assert b.subscribe(ws, "risk")["type"] == "subscribed"
    params = {"ema_period": 30}
    status, changed = call(a, "POST", "/v1/engine/config",
                           body={"strategies": [{"name": "pullback", "params": params}, "oops"]})
    assert status == 200, changed
    event = ws.expect(lambda f: f.get("type") == "event" and f["data"].get("event_type") == "engine.config_changed",
                      timeout=10, skip=lambda f: True)
    assert event["topic"] == "risk" and event["data"]["config"]["version"] == 1
    assert event["data"]["config"]["strategies"] == changed["strategies"]
    took = wait_version([a, b], 1)
    print(f"version 1 in effect on both gateways {took:.2f} s after the answer")
    assert engine(b)["version"] == 1

    csv = sample(tmp_path, 300, seed=3)
    assert replay(csv, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(a, 300)
    signals, _ = check_no_duplicates(a)
    assert signals, "the sample market gives signals"
    resolved = changed["strategies"][0]["params"]
    assert resolved["ema_period"] == 30
    for s in signals:
        assert s["config_version"] == 1, s
        if s["strategy"] == "pullback":
            assert s["params"] == resolved, s
    by_id = {s["id"]: s for s in signals}
    one = next(iter(by_id))
    status, stored = call(a, "GET", f"/v1/signals/{one}", role="VIEWER")
    assert status == 200 and stored["params"] == by_id[one]["params"] and stored["config_version"] == 1


def test_switch_mid_stream_skips_and_repeats_no_bar(start_gateway, redis_server, tmp_path):
    gw = start_gateway(FAST)
    bars = 3000
    csv = sample(tmp_path, bars, seed=11)
    feeder = replay(csv, redis_server.url, tmp_path)
    wait_until(lambda: int(engine_group(gw).get("entries-read") or 0) >= 1000, 90, "1,000 bars processed",
               interval=0.05)
    status, changed = call(gw, "POST", "/v1/engine/config", body={"arbiter": {"threshold": 40}})
    assert status == 200, changed
    assert feeder.wait(120) == 0
    wait_processed(gw, bars)
    wait_until(lambda: gauge(gw, "bedrock_engine_bars_processed_total") == bars, 15,
               f"{bars} bars in /metrics", interval=0.2, seen=lambda: gauge(gw, "bedrock_engine_bars_processed_total"))
    signals, _ = check_no_duplicates(gw)
    versions = [s["config_version"] for s in sorted(signals, key=lambda s: s["bar_time"])]
    assert 0 in versions and 1 in versions, versions
    assert versions == sorted(versions), "every bar after the switch ran under the new version"


def test_pause_keeps_managing_positions_and_makes_no_signal(start_gateway, redis_server, tmp_path):
    gw = start_gateway(FAST)
    csv = sample(tmp_path, 1200, seed=5)
    first, second = split(csv, 600, tmp_path)
    assert replay(first, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(gw, 600)
    before = all_pages(gw, "/v1/signals")
    positions_before = {p["id"]: p for p in all_pages(gw, "/v1/positions")}
    assert before and positions_before, "the first half trades"

    status, paused = call(gw, "POST", "/v1/engine/pause", sub="dana")
    assert status == 200 and paused["status"] == "paused" and paused["version"] == 1 and paused["updated_by"] == "dana"
    status, err = call(gw, "POST", "/v1/engine/pause")
    assert status == 409 and "already paused" in err["message"]
    wait_version([gw], 1)
    assert gauge(gw, "bedrock_engine_paused") == 1
    status, err = call(gw, "POST", "/v1/signals/generate", role="TRADER", body={"market": MARKET, "interval": "1h"})
    assert status == 409 and "paused" in err["message"], err

    open_before = [p for p in positions_before.values() if p["status"] == "OPEN"]
    assert replay(second, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(gw, 1200)
    assert all_pages(gw, "/v1/signals") == before, "no new signal while paused"
    after = {p["id"]: p for p in all_pages(gw, "/v1/positions")}
    assert set(after) == set(positions_before), "no new entry while paused"
    for p in open_before:
        now = after[p["id"]]
        assert now["status"] == "CLOSED" or now["current_price"] != p["current_price"], \
            f"position {p['id']} was neither marked nor exited while paused"

    status, resumed = call(gw, "POST", "/v1/engine/resume")
    assert status == 200 and resumed["status"] == "running" and resumed["version"] == 2
    wait_version([gw], 2)
    assert gauge(gw, "bedrock_engine_paused") == 0
    status, _ = call(gw, "POST", "/v1/signals/generate", role="TRADER", body={"market": MARKET, "interval": "1h"})
    assert status == 200


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("datasets")
    with open(d / "wave-1h.csv", "w") as f:
        f.write("timestamp,open,high,low,close,volume\n")
        prev = 100.0
        for i in range(2000):
            c = 100 + 10 * math.sin(i / 37.0) + 3 * math.sin(i / 5.0)
            f.write(f"{1_600_000_000 + 3600 * i},{prev:.4f},{max(prev, c) + 0.5:.4f},{min(prev, c) - 0.5:.4f},{c:.4f},1\n")
            prev = c
    return d


def wait_job(gw, task: str) -> dict:
    def done():
        status, body = call(gw, "GET", f"/v1/backtest/status/{task}", role="VIEWER")
        return body if body["status"] in ("COMPLETED", "FAILED", "CANCELLED") else None
    return wait_until(done, 120, f"job {task} to finish", interval=0.2)


def test_deploy_an_optimisation_result(start_gateway, dataset):
    gw = start_gateway({**FAST, "jobs": {"data_dir": str(dataset)}})
    status, job = call(gw, "POST", "/v1/optimize/parameters", role="TRADER", body={
        "strategy": "sma_cross", "dataset": "wave-1h.csv", "grid": {"fast": [5, 10], "slow": [30, 50]}})
    assert status == 200, job
    assert wait_job(gw, job["task_id"])["status"] == "COMPLETED"
    status, report = call(gw, "GET", f"/v1/backtest/report/{job['task_id']}", role="VIEWER")
    second = report["results"][1]["parameters"]

    status, err = call(gw, "POST", "/v1/engine/deploy", role="TRADER", body={"task_id": job["task_id"]})
    assert status == 403
    for body, code, text in [
        ({}, 400, "task_id is required"),
        ({"task_id": job["task_id"], "rank": 0}, 400, "rank"),
        ({"task_id": job["task_id"], "rank": 99}, 400, "rank must be from 1 to 4"),
        ({"task_id": job["task_id"], "when": "now"}, 400, "when"),
        ({"task_id": "opt-nope"}, 404, "no job"),
    ]:
        status, err = call(gw, "POST", "/v1/engine/deploy", body=body)
        assert status == code and text in err["message"], (body, err)
    assert engine(gw)["version"] == 0

    status, backtest = call(gw, "POST", "/v1/backtest/submit", role="TRADER",
                            body={"strategy": "sma_cross", "dataset": "wave-1h.csv"})
    assert wait_job(gw, backtest["task_id"])["status"] == "COMPLETED"
    status, err = call(gw, "POST", "/v1/engine/deploy", body={"task_id": backtest["task_id"]})
    assert status == 400 and "only optimisation results deploy" in err["message"]

    status, deployed = call(gw, "POST", "/v1/engine/deploy", body={"task_id": job["task_id"], "rank": 2})
    assert status == 200, deployed
    config = deployed["config"]
    assert config["version"] == 1 and deployed["ignored"] == []
    assert config["source"] == {"task_id": job["task_id"], "rank": 2, "strategy": "sma_cross"}
    added = [s for s in config["strategies"] if s["name"] == "sma_cross"]
    assert len(added) == 1 and added[0]["markets"] == ["*"]
    assert {k: added[0]["params"][k] for k in second} == second
    assert [s["name"] for s in config["strategies"]] == ["pullback", "oops", "sma_cross"]
    assert engine(gw) == config
