"""Black-box tests of the live engine's run-time configuration (SPEC §15, docs/ENGINE.md):
`GET /v1/engine`, `POST /v1/engine/config`, versions, deploy from an optimisation report,
pause/resume — on real gateways sharing one real redis-server, bars fed by `bedrock replay`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from helpers import wait_until, write_wave_csv
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
        ({"strategies": [{"name": "sma_cross", "params": {"fast": 50, "slow": 10}}]}, "fast (50) must be smaller than slow (10)"),
        ({"status": "sleeping"}, "status must be running or paused"),
        ({"version": "latest", "arbiter": {"threshold": 50}}, "version"),
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
    status, models = call(gw, "GET", "/v1/models", role="VIEWER")
    assert status == 200 and models["arbiter"]["threshold"] == 55, "the Models view shows the weights in effect"
    status, page = call(gw, "GET", "/v1/engine/versions?limit=1", role="VIEWER")
    assert status == 200 and page["total"] == 1 and page["data"] == [changed]
    status, err = call(gw, "GET", "/v1/engine/versions?limit=0", role="VIEWER")
    assert status == 400 and "limit" in err["message"]

    # What GET answered can be edited and sent back; its version guards against lost changes.
    edited = {**changed, "arbiter": {**changed["arbiter"], "threshold": 65}}
    status, second = call(gw, "POST", "/v1/engine/config", body=edited)
    assert status == 200 and second["version"] == 2 and second["arbiter"]["threshold"] == 65, second
    status, err = call(gw, "POST", "/v1/engine/config", body=edited)  # still says version 1
    assert status == 409 and err["error_code"] == "CONFLICT" and "version is 2, not 1" in err["message"], err
    status, err = call(gw, "POST", "/v1/engine/pause", body={"version": 1})
    assert status == 409, err
    assert engine(gw) == second

    # Version numbers are never reused, even after the stored configuration is removed by hand.
    with gw.redis() as r:
        r.execute("DEL", "bedrock:engine:config")
    wait_until(lambda: engine(gw)["version"] == 0, 5, "the file configuration back")
    status, third = call(gw, "POST", "/v1/engine/config", body={"arbiter": {"threshold": 52}})
    assert status == 200 and third["version"] == 3, third
    status, page = call(gw, "GET", "/v1/engine/versions", role="VIEWER")
    assert [v["version"] for v in page["data"]] == [3, 2, 1] and page["total"] == 3


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
    status, changed = call(gw, "POST", "/v1/engine/config", body={
        "arbiter": {"threshold": 40}, "strategies": [{"name": "pullback", "params": {"ema_period": 15}}, "oops"]})
    assert status == 200, changed
    assert feeder.wait(120) == 0
    wait_processed(gw, bars)
    wait_until(lambda: gauge(gw, "bedrock_engine_bars_processed_total") == bars, 15,
               f"{bars} bars in /metrics", interval=0.2, seen=lambda: gauge(gw, "bedrock_engine_bars_processed_total"))
    signals, _ = check_no_duplicates(gw)
    ordered = sorted(signals, key=lambda s: s["bar_time"])
    versions = [s["config_version"] for s in ordered]
    assert 0 in versions and 1 in versions, versions
    assert versions == sorted(versions), "every bar after the switch ran under the new version"
    assert {s["params"]["ema_period"] for s in ordered if s["strategy"] == "pullback" and s["config_version"] == 1} == {15}
    assert {s["params"]["ema_period"] for s in ordered if s["strategy"] == "pullback" and s["config_version"] == 0} == {20}


def chunks(csv: Path, sizes: list[int], tmp_path: Path) -> list[Path]:
    """The bars of `csv` cut into consecutive files of `sizes` rows (the rest in the last one)."""
    lines = csv.read_text().splitlines()
    head, rows, out, at = lines[0], lines[1:], [], 0
    for n, size in enumerate(sizes + [len(rows)]):
        part = rows[at:at + size]
        at += len(part)
        if not part:
            break
        path = tmp_path / f"chunk{n}" / csv.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([head, *part]) + "\n")
        out.append(path)
    return out


def test_pause_keeps_managing_positions_and_makes_no_signal(start_gateway, redis_server, tmp_path):
    gw = start_gateway(FAST)
    bars = 1500
    csv = sample(tmp_path, bars, seed=5)
    parts = chunks(csv, [300] + [20] * 45, tmp_path)
    fed, open_before = 0, []
    for part in parts[:-1]:
        assert replay(part, redis_server.url, tmp_path).wait(60) == 0
        fed += len(part.read_text().splitlines()) - 1
        wait_processed(gw, fed)
        open_before = [p for p in all_pages(gw, "/v1/positions") if p["status"] == "OPEN"]
        if open_before:
            break
    assert open_before, "the sample market opens a position within its first 1,200 bars"
    before = all_pages(gw, "/v1/signals")
    positions_before = {p["id"]: p for p in all_pages(gw, "/v1/positions")}

    status, paused = call(gw, "POST", "/v1/engine/pause", sub="dana")
    assert status == 200 and paused["status"] == "paused" and paused["version"] == 1 and paused["updated_by"] == "dana"
    status, err = call(gw, "POST", "/v1/engine/pause")
    assert status == 409 and "already paused" in err["message"]
    wait_version([gw], 1)
    assert gauge(gw, "bedrock_engine_paused") == 1
    status, err = call(gw, "POST", "/v1/signals/generate", role="TRADER", body={"market": MARKET, "interval": "1h"})
    assert status == 409 and "paused" in err["message"], err
    # A restart keeps it paused (the stored version is the configuration of every gateway).
    gw.stop()
    gw.start()
    wait_version([gw], 1)
    assert gauge(gw, "bedrock_engine_paused") == 1

    assert bars - fed > 100, "enough bars left to see the paused engine work"
    (tail,) = chunks(csv, [fed], tmp_path / "tail")[1:]
    assert replay(tail, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(gw, bars)
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


def test_an_unreadable_stored_version_pauses_the_engine_until_replaced(start_gateway):
    gw = start_gateway(FAST)
    ws, _ = gw.session("TRADER", "watcher")
    assert gw.subscribe(ws, "risk")["type"] == "subscribed"
    stored = {"version": 4, "status": "running", "strategies": [{"name": "martingale", "params": {}, "markets": ["*"]}],
              "arbiter": {"rule_weight": 0.5, "ml_weight": 0.3, "llm_weight": 0.2, "threshold": 60},
              "updated_by": "a later build", "updated_at": "2026-12-01T00:00:00Z", "source": None}
    with gw.redis() as r:  # what a newer build (or a hand edit) may leave behind
        r.execute("SET", "bedrock:engine:config", json.dumps(stored))
        r.execute("HSET", "bedrock:engine:config:versions", "4", json.dumps(stored))
    wait_until(lambda: gauge(gw, "bedrock_engine_config_unreadable") == 1, 10, "the engine to notice")
    assert gauge(gw, "bedrock_engine_paused") == 1, "fail safe: paused, exits and marks only"
    alert = ws.expect(lambda f: f.get("type") == "event" and f["data"].get("action") == "ENGINE_CONFIG_UNREADABLE",
                      timeout=10, skip=lambda f: True)
    assert "martingale" in alert["data"]["message"] and alert["data"]["version"] == 4
    shown = engine(gw)
    assert shown["readable"] is False and "martingale" in shown["problem"] and shown["version"] == 4
    status, page = call(gw, "GET", "/v1/engine/versions", role="VIEWER")
    assert status == 200 and page["data"][0]["readable"] is False
    status, err = call(gw, "POST", "/v1/engine/config", body={"arbiter": {"threshold": 50}})
    assert status == 400 and "full strategies list" in err["message"], err
    status, fixed = call(gw, "POST", "/v1/engine/config", body={"strategies": ["pullback", "oops"]})
    assert status == 200 and fixed["version"] == 5 and fixed["status"] == "running", fixed
    wait_until(lambda: gauge(gw, "bedrock_engine_config_unreadable") == 0 and gauge(gw, "bedrock_engine_paused") == 0,
               10, "the readable version in effect")
    alerts = [f for f in ws.seen if f.get("type") == "event" and f["data"].get("action") == "ENGINE_CONFIG_UNREADABLE"]
    assert len(alerts) == 1, "one alert per unreadable version"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("datasets")
    write_wave_csv(d / "wave-1h.csv", 2000)
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
    assert deployed["warnings"] == []
    added = [s for s in config["strategies"] if s["name"] == "sma_cross"]
    assert len(added) == 1 and added[0]["markets"] == ["*"]
    assert {k: added[0]["params"][k] for k in second} == second
    assert [s["name"] for s in config["strategies"]] == ["pullback", "oops", "sma_cross"]
    assert engine(gw) == config

    # Jobs use the arbiter in effect, as live trading does, and say which.
    status, _ = call(gw, "POST", "/v1/engine/config", body={"arbiter": {"threshold": 45}})
    assert status == 200
    status, later = call(gw, "POST", "/v1/backtest/submit", role="TRADER",
                         body={"strategy": "sma_cross", "dataset": "wave-1h.csv"})
    status, state = call(gw, "GET", f"/v1/backtest/status/{later['task_id']}", role="VIEWER")
    assert status == 200 and state["request"]["arbiter"]["threshold"] == 45, state
