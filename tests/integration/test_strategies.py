"""Black-box tests of `GET /v1/strategies` / socket `strategies.list` (issue 6): the strategies a
backtest may name, with each parameter's default and valid range, as the dashboard's backtest form
reads them; the ranges are the ones `backtest.submit` enforces."""

from __future__ import annotations

import json


def rest_json(gw, path: str, role: str = "VIEWER", method: str = "GET", body: dict | None = None):
    headers = {"Authorization": f"Bearer {gw.token(role, 'alice')}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, _, raw = gw.http(method, path, headers, data, timeout=10)
    return status, json.loads(raw) if raw else None


def test_rest_and_socket_list_the_strategies_with_their_ranges(start_gateway):
    gw = start_gateway()
    status, answer = rest_json(gw, "/v1/strategies")
    assert status == 200, answer
    assert answer["total"] == 3
    by_name = {s["name"]: s for s in answer["data"]}
    assert sorted(by_name) == ["oops", "pullback", "sma_cross"]
    for s in answer["data"]:
        assert s["description"]
        for p in s["params"]:
            assert set(p) >= {"name", "default", "min", "max", "integer"}
            assert p["min"] <= p["default"] <= p["max"], p
            assert isinstance(p["integer"], bool)
    fast = next(p for p in by_name["sma_cross"]["params"] if p["name"] == "fast")
    assert (fast["default"], fast["min"], fast["max"], fast["integer"]) == (10, 1, 500, True)
    pad = next(p for p in by_name["pullback"]["params"] if p["name"] == "atr_pad")
    assert pad["integer"] is False and pad["default"] == 0.5

    ws, _ = gw.session("VIEWER", "vic")
    ws.send({"type": "request", "id": 1, "method": "strategies.list", "params": {}})
    frame = ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == 1, skip=lambda f: True)
    assert frame["type"] == "response", frame
    assert frame["result"] == answer
    ws.close()


def test_submit_refuses_a_value_just_outside_a_listed_range(start_gateway, tmp_path):
    rows = [f"{1_700_000_000 + 3600 * i},100,101,99,100,1" for i in range(50)]
    (tmp_path / "tiny-1h.csv").write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    gw = start_gateway({"jobs": {"data_dir": str(tmp_path)}})
    _, answer = rest_json(gw, "/v1/strategies")
    slow = next(p for s in answer["data"] if s["name"] == "sma_cross" for p in s["params"] if p["name"] == "slow")
    status, error = rest_json(gw, "/v1/backtest/submit", role="TRADER", method="POST",
                              body={"strategy": "sma_cross", "params": {"slow": slow["max"] + 1}, "dataset": "tiny-1h.csv"})
    assert status == 400, error
    assert error["error_code"] == "BAD_REQUEST"
    assert "slow" in error["message"] and str(slow["max"]) in error["message"]


def test_needs_a_token(start_gateway):
    gw = start_gateway()
    status, _, _ = gw.http("GET", "/v1/strategies", {}, None)
    assert status == 401
