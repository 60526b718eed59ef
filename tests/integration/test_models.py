"""Black-box tests of the model registry and live scoring (SPEC §11, docs/ML.md): real gateway,
real redis-server, models trained by the real xgboost (PyPI) on random data and imported as JSON.

- every route and socket method with its role, and bad input refused with the reason;
- events `model.trained` / `model.deployed` on topic `models`;
- the live engine with deployed versions: signals carry `ml_confidence_score` (= xgboost's
  prediction on the signal's own feature vector) and `ml_model`, picked by traffic share
  (FNV-1a 64 of strategy|market|interval|bar_time mod 100), both versions at 50/50;
- a version whose stored JSON is corrupted: signals keep flowing with a null score, one
  `risk.alert` ML_MODEL_FAILED, the failure counter on /metrics;
- per-version live performance once positions close.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb

from helpers import PREFIX, stream_key, wait_until
from test_engine import FAST, engine_wired, replay, sample, wait_processed
from test_ledger_api import Socket, rest

FEATURES = ["rule_score", "rsi_14", "atr_14_pct", "close_vs_sma_50", "sma_50_slope_10", "volume_ratio_20",
            "range_atr", "stop_distance_atr", "reward_risk", "hour_of_day", "day_of_week", "side", "return_1",
            "return_10", "stop_entry"]


def train(tmp_path, seed: int, *, features: int = 15, objective: str = "binary:logistic", rounds: int = 8,
          depth: int = 3) -> tuple[dict, xgb.Booster]:
    """A model trained by xgboost on random data, saved with save_model and read back as JSON."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, features)) * 20 + 50
    x[rng.random(x.shape) < 0.1] = np.nan
    y = (np.nan_to_num(x[:, 0]) + rng.normal(size=400) * 10 > 50).astype(int)
    names = FEATURES if features == 15 else [f"f{i}" for i in range(features)]
    booster = xgb.train({"objective": objective, "max_depth": depth, "eta": 0.3, "seed": seed},
                        xgb.DMatrix(x, label=y, feature_names=names, missing=np.nan), num_boost_round=rounds)
    path = tmp_path / f"model-{seed}-{features}-{objective.replace(':', '_')}.json"
    booster.save_model(str(path))
    return json.loads(path.read_text()), booster


def predict(booster: xgb.Booster, row: list) -> float:
    values = np.array([[np.nan if v is None else v for v in row]], dtype=float)
    return float(booster.predict(xgb.DMatrix(values, feature_names=FEATURES, missing=np.nan))[0])


def fnv_bucket(key: str) -> int:
    h = 0xCBF29CE484222325
    for b in key.encode():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h % 100


def events(gw, topic: str) -> list[dict]:
    with gw.redis() as r:
        return [json.loads(f["event"]) for _, f in r.xrange(stream_key(topic))]


def import_model(gw, name: str, model, role: str = "ADMIN"):
    return rest(gw, "/v1/models/import", role, "POST", {"name": name, "model": model})


def deploy(gw, name: str, version, pct, role: str = "ADMIN"):
    return rest(gw, f"/v1/models/{name}/{version}/deploy", role, "POST", {"traffic_percentage": pct})


@pytest.fixture
def quiet(start_gateway):
    """A gateway with the live engine off: the registry alone."""
    return start_gateway({"engine": {"strategies": []}})


def test_import_list_deploy_with_roles_and_refusals(quiet, tmp_path):
    gw = quiet
    model, booster = train(tmp_path, 1)
    for role in ("VIEWER", "TRADER"):
        status, body = import_model(gw, "alpha", model, role)
        assert status == 403 and body["error_code"] == "FORBIDDEN", body
    status, v1 = import_model(gw, "alpha", model)
    assert status == 200, v1
    assert (v1["name"], v1["version"], v1["source"], v1["status"], v1["traffic_percentage"]) == \
        ("alpha", 1, "imported", "candidate", 0)
    assert v1["trees"] == 8 and v1["features"] == FEATURES and v1["dataset"] is None and v1["metrics"] is None

    wrong_objective, _ = train(tmp_path, 2, objective="reg:squarederror")
    ten_features, _ = train(tmp_path, 3, features=10)
    for name, bad, words in [
        ("bad name!", model, "bad model name"), ("x" * 65, model, "bad model name"),
        ("alpha", {"learner": 1}, "model refused"), ("alpha", "{not json", "model refused"),
        ("alpha", wrong_objective, "objective"), ("alpha", ten_features, "feature"),
        ("alpha", None, "model is required"),
    ]:
        status, body = import_model(gw, name, bad)
        assert status == 400 and body["error_code"] == "BAD_REQUEST", (name, body)
        assert words in body["message"], (words, body["message"])

    status, listed = rest(gw, "/v1/models")
    assert status == 200 and [m["version"] for m in listed["models"]] == [1], listed
    assert listed["traffic"] == {}
    assert listed["arbiter"] == {"rule_weight": 0.5, "ml_weight": 0.3, "llm_weight": 0.2, "threshold": 60.0}

    # Deploy: ADMIN only; the first deployed version gets 100 whatever was asked, and says so.
    assert deploy(gw, "alpha", 1, 10, "TRADER")[0] == 403
    status, d = deploy(gw, "alpha", 1, 10)
    assert status == 200 and d["traffic_percentage"] == 100 and d["status"] == "deployed", d
    assert d["traffic"] == {"alpha@1": 100} and "100" in d["note"]
    _, v2 = import_model(gw, "alpha", train(tmp_path, 4)[0])
    _, v3 = import_model(gw, "alpha", train(tmp_path, 5)[0])
    assert (v2["version"], v3["version"]) == (2, 3)
    status, d = deploy(gw, "alpha", 2, 30)
    assert status == 200 and d["traffic"] == {"alpha@1": 70, "alpha@2": 30} and d["note"] is None, d
    status, d = deploy(gw, "alpha", 3, 15)  # 70/30 rescaled to fill 85: 59.5 / 25.5 -> 60 / 25 (ties: name order)
    assert d["traffic"] == {"alpha@1": 60, "alpha@2": 25, "alpha@3": 15}, d
    for bad, code in [(150, 400), (-1, 400), (12.5, 400), ("x", 400), (None, 400)]:
        status, body = deploy(gw, "alpha", 2, bad)
        assert status == code and body["error_code"] == "BAD_REQUEST", (bad, body)
    assert deploy(gw, "alpha", 9, 10)[0] == 404
    assert deploy(gw, "nobody", 1, 10)[0] == 404
    assert deploy(gw, "alpha", "x", 10)[0] == 404
    # 0 retires the version, the others fill the rest; a share dropping to 0 retires too.
    status, d = deploy(gw, "alpha", 1, 0)
    assert d["status"] == "retired" and d["traffic"] == {"alpha@2": 63, "alpha@3": 37}, d
    status, d = deploy(gw, "alpha", 3, 100)
    assert d["traffic"] == {"alpha@3": 100} and d["retired"] == ["alpha@2"], d
    listed = rest(gw, "/v1/models")[1]
    assert [(m["version"], m["status"], m["traffic_percentage"]) for m in listed["models"]] == \
        [(3, "deployed", 100), (2, "retired", 0), (1, "retired", 0)]
    assert listed["traffic"] == {"alpha@3": 100}
    with gw.redis() as r:
        assert r.execute("HGETALL", f"{PREFIX}models:traffic") in ([b"alpha@3", b"100"], ["alpha@3", "100"])

    # Events on `models`: one model.trained per version, one model.deployed per deploy.
    evs = events(gw, "models")
    assert [e["event_type"] for e in evs].count("model.trained") == 3
    deployed = [e for e in evs if e["event_type"] == "model.deployed"]
    assert [e["model"] for e in deployed] == ["alpha@1", "alpha@2", "alpha@3", "alpha@1", "alpha@3"]
    assert deployed[-1]["traffic"] == {"alpha@3": 100}


def test_deploying_zero_to_a_candidate_changes_nothing_and_list_pages(quiet, tmp_path):
    gw = quiet
    model, _ = train(tmp_path, 1)
    for _ in range(3):
        assert import_model(gw, "beta", model)[0] == 200
    assert deploy(gw, "beta", 1, 100)[0] == 200
    # 0 % for a version that never had traffic: it stays a candidate; no write, no event.
    status, d = deploy(gw, "beta", 2, 0)
    assert status == 200 and d["status"] == "candidate" and d["traffic_percentage"] == 0, d
    assert d["retired"] == [] and d["traffic"] == {"beta@1": 100} and "nothing changed" in d["note"], d
    deployed = [e for e in events(gw, "models") if e["event_type"] == "model.deployed"]
    assert [e["model"] for e in deployed] == ["beta@1"]
    # A version that had traffic is retired; 0 % again leaves it retired.
    assert deploy(gw, "beta", 3, 50)[1]["traffic"] == {"beta@1": 50, "beta@3": 50}
    assert deploy(gw, "beta", 3, 0)[1]["status"] == "retired"
    status, d = deploy(gw, "beta", 3, 0)
    assert status == 200 and d["status"] == "retired" and d["retired"] == [], d

    # models.list pages: newest first, total over all versions, traffic and arbiter whole.
    status, page = rest(gw, "/v1/models?limit=2&offset=1")
    assert status == 200, page
    assert [m["version"] for m in page["models"]] == [2, 1] and page["total"] == 3, page
    assert (page["limit"], page["offset"]) == (2, 1) and page["traffic"] == {"beta@1": 100} and page["arbiter"]
    status, page = rest(gw, "/v1/models")
    assert [m["version"] for m in page["models"]] == [3, 2, 1] and page["limit"] == 100, page
    assert rest(gw, "/v1/models?offset=5")[1]["models"] == []
    for query, field in [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"), ("offset=-1", "offset")]:
        status, body = rest(gw, f"/v1/models?{query}")
        assert status == 400 and body["error_code"] == "BAD_REQUEST" and field in body["message"], (query, body)


def test_predict_and_performance_with_roles(quiet, tmp_path):
    gw = quiet
    model, booster = train(tmp_path, 11)
    other, booster2 = train(tmp_path, 12)
    import_model(gw, "beta", model)
    import_model(gw, "beta", other)
    rng = np.random.default_rng(3)
    row = [float(v) for v in rng.normal(size=15) * 20 + 50]
    given = dict(zip(FEATURES, row))
    del given["rsi_14"]  # missing -> NaN
    row[1] = None
    given["side"] = None
    row[FEATURES.index("side")] = None
    # No version deployed: the newest (2) answers; `version` picks another.
    status, p = rest(gw, "/v1/models/beta/predict", "VIEWER", "POST", {"features": given})
    assert status == 200 and p["ml_model"] == "beta@2", p
    assert p["ml_confidence_score"] == pytest.approx(predict(booster2, row) * 100, abs=1e-6)
    status, p = rest(gw, "/v1/models/beta/predict", "VIEWER", "POST", {"features": given, "version": 1})
    assert p["ml_model"] == "beta@1" and p["ml_confidence_score"] == pytest.approx(predict(booster, row) * 100, abs=1e-6)
    deploy(gw, "beta", 1, 100)
    assert rest(gw, "/v1/models/beta/predict", "VIEWER", "POST", {"features": given})[1]["ml_model"] == "beta@1"
    for body, code in [
        ({"features": {"nope": 1}}, 400), ({"features": [1, 2]}, 400), ({"features": {"rsi_14": "x"}}, 400),
        ({}, 400), ({"features": given, "signal_id": 1}, 400), ({"features": given, "version": 7}, 404),
        ({"signal_id": 99}, 404),
    ]:
        status, b = rest(gw, "/v1/models/beta/predict", "VIEWER", "POST", body)
        assert status == code, (body, b)
    assert rest(gw, "/v1/models/nobody/predict", "VIEWER", "POST", {"features": given})[0] == 404
    assert rest(gw, "/v1/models/bad%20name/predict", "VIEWER", "POST", {"features": given})[0] == 400

    status, perf = rest(gw, "/v1/models/beta/1/performance")
    assert status == 200 and (perf["count"], perf["wins"], perf["win_rate"], perf["auc"]) == (0, 0, None, None), perf
    assert rest(gw, "/v1/models/beta/5/performance")[0] == 404

    # The socket: the same methods, roles and answers.
    viewer, admin = Socket(gw, "VIEWER"), Socket(gw, "ADMIN")
    try:
        assert viewer.call("models.list")["result"] == rest(gw, "/v1/models")[1]
        assert viewer.call("models.import", {"name": "gamma", "model": model})["error_code"] == "FORBIDDEN"
        assert viewer.call("models.deploy", {"name": "beta", "version": 2, "traffic_percentage": 5})["error_code"] == "FORBIDDEN"
        small, small_booster = train(tmp_path, 13, rounds=3, depth=2)
        imported = admin.call("models.import", {"name": "gamma", "model": small})
        assert imported["result"]["name"] == "gamma" and imported["result"]["version"] == 1, imported
        assert admin.call("models.import", {"name": "g a", "model": small})["error_code"] == "BAD_REQUEST"
        deployed = admin.call("models.deploy", {"name": "gamma", "version": 1, "traffic_percentage": 40})["result"]
        assert deployed["traffic"] == {"beta@1": 60, "gamma@1": 40}, deployed
        answer = viewer.call("models.predict", {"name": "beta", "features": given})["result"]
        assert answer == rest(gw, "/v1/models/beta/predict", "VIEWER", "POST", {"features": given})[1]
        assert viewer.call("models.performance", {"name": "beta", "version": 1})["result"] == perf
    finally:
        viewer.close()
        admin.close()


def test_models_topic_is_viewer(quiet, tmp_path):
    gw = quiet
    ws, _ = gw.session("VIEWER", "watcher")
    try:
        sub = gw.subscribe(ws, "models")
        assert sub["type"] == "subscribed", sub
        import_model(gw, "delta", train(tmp_path, 21)[0])
        deploy(gw, "delta", 1, 100)
        trained = ws.expect(lambda f: f.get("type") == "event" and f["data"]["event_type"] == "model.trained")
        assert trained["topic"] == "models" and trained["data"]["name"] == "delta" and trained["data"]["version"] == 1
        done = ws.expect(lambda f: f.get("type") == "event" and f["data"]["event_type"] == "model.deployed")
        assert done["data"]["model"] == "delta@1" and done["data"]["traffic_percentage"] == 100
    finally:
        ws.close()


def all_signals(gw) -> list[dict]:
    out, offset = [], 0
    while True:
        status, page = rest(gw, f"/v1/signals?limit=100&offset={offset}")
        assert status == 200, page
        out += page["data"]
        offset += 100
        if offset >= page["total"]:
            return out


def test_live_engine_scores_signals_by_traffic_share(start_gateway, redis_server, tmp_path):
    gw = start_gateway(FAST)
    assert engine_wired(gw), "the live engine is not wired into bedrock serve"
    (m1, b1), (m2, b2) = train(tmp_path, 31), train(tmp_path, 32)
    import_model(gw, "live", m1)
    import_model(gw, "live", m2)
    deploy(gw, "live", 1, 100)
    assert deploy(gw, "live", 2, 50)[1]["traffic"] == {"live@1": 50, "live@2": 50}
    csv = sample(tmp_path, 400)
    assert replay(csv, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(gw, 400)
    signals = all_signals(gw)
    assert len(signals) >= 4, len(signals)
    boosters = {"live@1": b1, "live@2": b2}
    for s in signals:
        key = f"{s['strategy']}|{s['market']}|{s['interval']}|{s['bar_time']}"
        assert s["ml_model"] == ("live@1" if fnv_bucket(key) < 50 else "live@2"), (key, s["ml_model"])
        assert len(s["features"]) == 15
        full = rest(gw, f"/v1/signals/{s['id']}")[1]
        assert full["features"] == s["features"]
        assert s["ml_confidence_score"] == pytest.approx(predict(boosters[s["ml_model"]], s["features"]) * 100, abs=1e-6)
        assert "ML" in s["explanation"], s["explanation"]
    assert {s["ml_model"] for s in signals} == {"live@1", "live@2"}, "both versions score at 50/50"
    created = [e for e in events(gw, "signals") if e["event_type"] == "signal.created"]
    assert all(e["ml_model"] in boosters and "features" not in e for e in created), "small events: no vector"
    # A version's score is the same from models.predict on the stored vector.
    s = signals[0]
    p = rest(gw, "/v1/models/live/predict", "VIEWER", "POST", {"signal_id": s["id"], "version": s["ml_model"].split("@")[1]})[1]
    assert p["ml_confidence_score"] == pytest.approx(s["ml_confidence_score"], abs=1e-6)
    metrics = gw.http("GET", "/metrics")[2].decode()
    assert 'bedrock_ml_scored_total{model="live@1"}' in metrics

    # Live performance: every closed position opened from a scored signal is one outcome.
    status, positions = rest(gw, "/v1/positions?status=CLOSED&limit=100")
    assert positions["total"] >= 1 and positions["total"] <= 100, positions["total"]
    by_id = {s["id"]: s for s in signals}
    for version in (1, 2):
        ref = f"live@{version}"
        mine = [p for p in positions["data"] if by_id[p["signal_id"]]["ml_model"] == ref]
        perf = rest(gw, f"/v1/models/live/{version}/performance")[1]
        assert perf["count"] == len(mine), (ref, perf, len(mine))
        assert perf["wins"] == sum(1 for p in mine if p["realized_pnl"] > 0)
        assert perf["auc"] is None or perf["count"] >= 20


def test_broken_model_leaves_signals_flowing_with_one_alert(start_gateway, redis_server, tmp_path):
    gw = start_gateway(FAST)
    assert engine_wired(gw), "the live engine is not wired into bedrock serve"
    import_model(gw, "broken", train(tmp_path, 41)[0])
    with gw.redis() as r:
        r.execute("HSET", f"{PREFIX}model:broken:1", "model", '{"learner": "corrupted')
    assert deploy(gw, "broken", 1, 100)[0] == 200
    csv = sample(tmp_path, 300)
    assert replay(csv, redis_server.url, tmp_path).wait(60) == 0
    wait_processed(gw, 300)
    signals = all_signals(gw)
    assert len(signals) >= 2
    assert all(s["ml_confidence_score"] is None and s["ml_model"] is None for s in signals)
    alerts = [e for e in events(gw, "risk") if e.get("action") == "ML_MODEL_FAILED"]
    assert len(alerts) == 1, alerts
    assert alerts[0]["model"] == "broken@1" and alerts[0]["reasons"][0]["code"] == "ML_MODEL_FAILED"
    text = gw.http("GET", "/metrics")[2].decode()
    line = next(l for l in text.splitlines() if l.startswith("bedrock_ml_score_failures_total"))
    assert int(float(line.split()[-1])) >= len(signals), line


def test_a_model_of_hundreds_of_deep_trees_imports_over_rest(quiet, tmp_path):
    """A realistic notebook model (300 trees of depth 6, ~2 MB of JSON) is more than the 1 MiB every
    other request may send: an ADMIN's import takes it; any other caller's body stays capped."""
    gw = quiet
    rng = np.random.default_rng(7)
    x = rng.normal(size=(20_000, 15)) * 20 + 50
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "tree_method": "hist"},
                        xgb.DMatrix(x, label=rng.random(20_000) < 0.4, feature_names=FEATURES), num_boost_round=300)
    booster.save_model(str(tmp_path / "deep.json"))
    model = json.loads((tmp_path / "deep.json").read_text())
    size = len(json.dumps(model))
    assert size > 1 << 20, size
    status, body = import_model(gw, "deep", model)
    assert status == 200, body
    assert body["name"] == "deep" and body["version"] == 1 and body["trees"] == 300
    row = [50.0] * 15
    status, answer = rest(gw, "/v1/models/deep/predict", "VIEWER", "POST",
                          {"version": 1, "features": dict(zip(FEATURES, row))})
    assert status == 200, answer
    assert answer["ml_confidence_score"] == pytest.approx(predict(booster, row) * 100, abs=1e-4)
    for role in ("VIEWER", "TRADER"):
        status, body = import_model(gw, "deep", model, role=role)
        assert status == 413 and body["error_code"] == "PAYLOAD_TOO_LARGE", (role, body)
    # Bodies over 64 KiB are parsed on a worker, not on the event loop: the same answers as ever.
    headers = {"Authorization": f"Bearer {gw.token('ADMIN')}", "Content-Type": "application/json"}
    status, _, raw = gw.http("POST", "/v1/models/import", headers, b"[" + b"1," * 200_000 + b"1]")
    assert status == 400 and json.loads(raw)["message"] == "the body must be a JSON object", raw
    trader = {"Authorization": f"Bearer {gw.token('TRADER')}", "Content-Type": "application/json"}
    status, _, raw = gw.http("POST", "/v1/models/import", trader, b"{" + b" " * 200_000 + b"}")
    assert status == 403 and json.loads(raw)["error_code"] == "FORBIDDEN", raw
    assert [m["version"] for m in rest(gw, "/v1/models", "VIEWER", "GET")[1]["models"]] == [1]
