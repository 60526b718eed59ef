"""Dev sign-in (`/dev/token`): dev mode and loopback only, absent in production mode."""

from __future__ import annotations

import json

from test_http import assert_error_body


def post_json(gateway, path: str, body: dict | None) -> tuple[int, dict, bytes]:
    data = None if body is None else json.dumps(body).encode()
    return gateway.http("POST", path, {"Content-Type": "application/json"}, data)


def test_dev_mode_offers_sign_in(gateway):
    status, _, info = gateway.get_json("/dev/token")
    assert status == 200
    assert info["dev"] is True
    assert info["roles"] == ["VIEWER", "TRADER", "ADMIN"]
    # The dashboard learns it from /health (no request that can 404 in production).
    for method in ("GET", "HEAD"):
        status, headers, _ = gateway.http(method, "/health")
        assert status == 200 and headers.get("x-dev-sign-in") == "available", (method, headers)


def test_minted_token_works_for_its_role_only(gateway):
    status, _, body = post_json(gateway, "/dev/token", {"role": "VIEWER", "sub": "carol"})
    assert status == 200, body
    minted = json.loads(body)
    assert minted["role"] == "VIEWER" and minted["sub"] == "carol" and minted["ttl_s"] == 900
    auth = {"Authorization": f"Bearer {minted['token']}"}
    status, _, account = gateway.get_json("/v1/account", auth)
    assert status == 200 and "balance" in account
    status, headers, body = gateway.http(
        "POST", "/v1/risk/kill-switch", {**auth, "Content-Type": "application/json"}, b'{"enabled":true}')
    assert_error_body(status, headers, body, "FORBIDDEN", 403)
    ws = gateway.connect(minted["token"])
    welcome = ws.expect("welcome")
    assert welcome["sub"] == "carol" and welcome["role"] == "VIEWER"
    ws.close()


def test_default_role_and_subject_and_short_ttl(gateway):
    status, _, body = post_json(gateway, "/dev/token", {"role": "admin", "ttl_s": 10})
    assert status == 200, body
    minted = json.loads(body)
    assert minted["role"] == "ADMIN" and minted["sub"] == "dev-admin" and minted["ttl_s"] == 10
    status, _, body = post_json(gateway, "/dev/token", None)
    assert status == 200 and json.loads(body)["role"] == "VIEWER"


def test_bad_bodies_are_refused(gateway):
    for body in ({"role": "ROOT"}, {"ttl_s": 5}, {"ttl_s": 99999}, {"sub": "a b"}, {"sub": ""}, [1]):
        status, headers, data = gateway.http("POST", "/dev/token", {"Content-Type": "application/json"},
                                             json.dumps(body).encode())
        assert_error_body(status, headers, data, "BAD_REQUEST", 400)


def test_production_mode_has_no_dev_sign_in(start_gateway):
    gw = start_gateway({"mode": "production"})
    for method in ("GET", "POST"):
        status, headers, body = gw.http(method, "/dev/token", {"Content-Type": "application/json"},
                                        b'{"role":"ADMIN"}' if method == "POST" else None)
        assert_error_body(status, headers, body, "NOT_FOUND", 404)
    status, headers, body = gw.http("GET", "/health")
    assert status == 200 and json.loads(body) == {"status": "healthy"}
    assert "x-dev-sign-in" not in headers, headers
