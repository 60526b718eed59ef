"""Admin disconnect and revocation across gateways (SPEC §14): `POST /v1/admin/disconnect`
closes every socket of a user on every gateway with 4403; with `revoke`, tokens of that user
issued before then are refused (HTTP 401, upgrade 401, first-frame 4401 "token revoked") on every
gateway — also one started afterwards — while a token issued later works."""

from __future__ import annotations

import json
import re
import time

import pytest

from helpers import JWT_SECRET, RFC3339, InvalidStatus, make_jwt, poll, wait_until
from test_http import assert_error_body
from test_presence import FAST, admin_headers, wait_presence


def disconnect(gw, body) -> tuple[int, dict[str, str], bytes]:
    headers = dict(admin_headers(gw), **{"Content-Type": "application/json"})
    return gw.http("POST", "/v1/admin/disconnect", headers, json.dumps(body).encode())


def token(sub: str, iat: int | None, role: str = "TRADER") -> str:
    claims = {"sub": sub, "role": role, "exp": int(time.time()) + 600}
    if iat is not None:
        claims["iat"] = iat
    return make_jwt(claims, JWT_SECRET)


def http_status(gw, tok: str) -> tuple[int, bytes]:
    status, _, body = gw.http("GET", "/v1/account", {"Authorization": f"Bearer {tok}"})
    return status, body


def upgrade_refused(gw, tok: str) -> int | None:
    try:
        gw.connect(tok).close()
    except InvalidStatus as e:
        return e.response.status_code
    return None


def test_disconnect_closes_the_users_sockets_on_both_gateways(start_gateway):
    a, b = start_gateway(FAST), start_gateway(FAST)
    m1, _ = a.session("TRADER", "mallory")
    m2, _ = b.session("TRADER", "mallory")
    alice, _ = b.session("TRADER", "alice")
    try:
        wait_presence(a, {"mallory": 2, "alice": 1})
        status, _, body = disconnect(a, {"sub": "mallory"})
        assert status == 200, body
        assert json.loads(body) == {"sub": "mallory", "revoke": False, "revoked_before": None, "connections": 2}
        for ws in (m1, m2):
            code, _ = ws.expect_close(5)
            assert code == 4403
        alice.roundtrip_ping()
        again, _ = a.session("TRADER", "mallory")  # not revoked: may come back
        again.close()
        assert "disconnected by an administrator" in a.log_text() + b.log_text()
        # Back on its own topic, mallory finds why: the notice, from the admin who sent it.
        status, _, body = b.http("GET", "/v1/history?topic=user:mallory", admin_headers(b))
        assert status == 200, body
        notices = [e["data"] for e in json.loads(body)["events"] if e["data"]["event_type"] == "notice"]
        assert len(notices) == 1, notices
        assert notices[0]["message"] == "Your sessions were closed by an administrator.", notices
        assert notices[0]["from"] and not notices[0]["from"].startswith("apikey"), notices
    finally:
        for ws in (m1, m2, alice):
            ws.close()


def test_revoke_refuses_older_tokens_everywhere_and_after_a_restart(start_gateway, redis_server):
    a, b = start_gateway(FAST), start_gateway(FAST)
    old = token("mallory", int(time.time()) - 5)
    ws = b.connect(old)
    ws.expect("welcome")
    try:
        wait_presence(a, {"mallory": 1})
        status, _, body = disconnect(a, {"sub": "mallory", "revoke": True})
        assert status == 200, body
        answer = json.loads(body)
        assert answer["revoke"] is True and answer["connections"] == 1, answer
        assert re.match(RFC3339, answer["revoked_before"]), answer
        assert answer["revoked_before"].endswith(".000Z"), "the next whole second: iat has no fraction"
        assert ws.expect_close(5)[0] == 4403
    finally:
        ws.close()

    for gw in (a, b):  # the other gateway hears of it within a second
        assert poll(lambda: http_status(gw, old)[0] == 401, 1.0), http_status(gw, old)
        status, hdrs, body = gw.http("GET", "/v1/account", {"Authorization": f"Bearer {old}"})
        assert assert_error_body(status, hdrs, body, "UNAUTHENTICATED", 401)["message"] == "token revoked"
        assert upgrade_refused(gw, old) == 401
        assert http_status(gw, token("mallory", None))[0] == 401, "a token without iat is refused too"
        first = gw.connect()
        first.send({"type": "auth", "token": old})
        assert first.expect_close(5)[0] == 4401

    with a.redis() as r:
        revoked_ms = int(r.execute("HGET", "bedrock:revoked", "mallory"))
    assert revoked_ms % 1000 == 0, revoked_ms
    assert http_status(a, token("mallory", revoked_ms // 1000 - 1))[0] == 401, "minted in the revocation's second"
    newer = token("mallory", revoked_ms // 1000)  # minted at the boundary: works
    assert http_status(a, newer)[0] == 200
    fresh = b.connect(newer)
    fresh.expect("welcome")
    fresh.close()
    assert http_status(a, token("alice", int(time.time()) - 5))[0] == 200, "other users are not affected"

    b.stop()
    c = start_gateway(FAST)  # a gateway started after the revocation reads it from Redis
    assert http_status(c, old)[0] == 401
    assert upgrade_refused(c, old) == 401
    assert http_status(c, newer)[0] == 200


def test_a_revocation_written_to_redis_by_hand_closes_older_sessions_with_4401(start_gateway):
    gw = start_gateway(FAST)
    older = gw.connect(token("eve", int(time.time()) - 5))
    older.expect("welcome")
    newer = gw.connect(token("eve", int(time.time()) + 30))  # issued after the revocation below
    newer.expect("welcome")
    try:
        with gw.redis() as r:
            r.execute("HSET", "bedrock:revoked", "eve", str(int(time.time() * 1000)))
            r.execute("INCR", "bedrock:revoked:version")  # what makes a hand edit count within a second
        code, _ = older.expect_close(5)  # the version is checked every second
        assert code == 4401
        newer.roundtrip_ping()
        assert "token revoked" in gw.log_text()
    finally:
        older.close()
        newer.close()


@pytest.mark.parametrize("body, words", [
    ({}, "sub is required"),
    ({"sub": ""}, "sub is required"),
    ({"sub": 42}, "sub must be a string"),
    ({"sub": "x" * 257}, "256"),
    ({"sub": "   "}, "blank"),
    ({"sub": "mallory", "revoke": "maybe"}, "revoke must be true or false"),
    ({"sub": "apikey:backend-1", "revoke": True}, "api.keys"),
])
def test_disconnect_refuses_bad_input(gateway, body, words):
    status, hdrs, raw = disconnect(gateway, body)
    err = assert_error_body(status, hdrs, raw, "BAD_REQUEST", 400)
    assert words in err["message"], err
    with gateway.redis() as r:
        assert r.execute("HLEN", "bedrock:revoked") == 0, "bad input changes nothing"


def test_disconnect_needs_admin(gateway):
    headers = {"Authorization": f"Bearer {gateway.token('TRADER', 'alice')}", "Content-Type": "application/json"}
    status, hdrs, raw = gateway.http("POST", "/v1/admin/disconnect", headers, b'{"sub":"bob","revoke":true}')
    assert_error_body(status, hdrs, raw, "FORBIDDEN", 403)
    status, hdrs, raw = gateway.http("POST", "/v1/admin/disconnect", {"Content-Type": "application/json"},
                                     b'{"sub":"bob"}')
    assert_error_body(status, hdrs, raw, "UNAUTHENTICATED", 401)
    ws, _ = gateway.session("VIEWER", "viewer")
    try:
        ws.send({"type": "request", "id": 1, "method": "admin.disconnect", "params": {"sub": "bob"}})
        assert ws.expect("error")["error_code"] == "FORBIDDEN"
    finally:
        ws.close()
    with gateway.redis() as r:
        assert r.execute("HLEN", "bedrock:revoked") == 0
