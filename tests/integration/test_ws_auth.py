"""WebSocket authentication (SPEC §5, §6): query token, header, first frame, expiry, refresh."""

from __future__ import annotations

import base64
import json
import time

import pytest

from helpers import SUBPROTOCOL, ConnectionClosed, InvalidStatus, make_jwt


def test_query_token_gets_welcome(gateway):
    ws = gateway.connect(gateway.token("TRADER", "alice"))
    try:
        assert ws.subprotocol == SUBPROTOCOL
        w = ws.expect("welcome")
        assert w["sub"] == "alice"
        assert w["role"] == "TRADER"
        assert w.get("session_id")
        assert isinstance(w["heartbeat_s"], (int, float)) and w["heartbeat_s"] > 0
        assert w.get("expires_at")
    finally:
        ws.close()


def test_authorization_header_gets_welcome(gateway):
    ws = gateway.connect(header_token=gateway.token("VIEWER", "hdr"))
    try:
        w = ws.expect("welcome")
        assert w["sub"] == "hdr" and w["role"] == "VIEWER"
    finally:
        ws.close()


@pytest.mark.parametrize("kind", ["garbage", "wrong-key", "alg-none", "expired"])
def test_bad_query_token_is_http_401_before_upgrade(gateway, kind):
    now = int(time.time())
    tok = {
        "garbage": "not.a.token",
        "wrong-key": make_jwt({"sub": "m", "role": "ADMIN", "exp": now + 600}, secret="y" * 40),
        "alg-none": make_jwt({"sub": "m", "role": "ADMIN", "exp": now + 600}, alg="none"),
        "expired": make_jwt({"sub": "m", "role": "ADMIN", "exp": now - 600}),
    }[kind]
    with pytest.raises(InvalidStatus) as ei:
        gateway.connect(tok)
    assert ei.value.response.status_code == 401


def test_bad_header_token_is_http_401(gateway):
    with pytest.raises(InvalidStatus) as ei:
        gateway.connect(header_token="nope.nope.nope")
    assert ei.value.response.status_code == 401


def test_first_frame_auth(gateway):
    ws = gateway.connect()
    try:
        ws.send({"type": "auth", "token": gateway.token("ADMIN", "root")})
        w = ws.expect("welcome")
        assert w["sub"] == "root" and w["role"] == "ADMIN"
        ws.roundtrip_ping()
    finally:
        ws.close()


def test_first_frame_bad_token_closes_4401(gateway):
    ws = gateway.connect()
    ws.send({"type": "auth", "token": "bad.bad.bad"})
    code, _ = ws.expect_close(5)
    assert code == 4401


@pytest.mark.parametrize(
    "alg", ["x" + "\u00e9" * 100, "A" * 300, "HS256\r\nX: 1"], ids=["non-ascii", "long", "crlf"])
def test_token_alg_is_not_echoed_in_the_close_reason(gateway, alg):
    """An unsigned token whose header names a long or odd alg: 4401 with a short ASCII reason
    that does not echo it (a close reason is at most 123 bytes of UTF-8; before, the echo was
    cut at 120 bytes, mid-character for non-ASCII)."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": alg}, ensure_ascii=False).encode()).rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(b'{"sub":"m","role":"ADMIN","exp":4102444800}').rstrip(b"=").decode()
    ws = gateway.connect()
    ws.send({"type": "auth", "token": f"{header}.{payload}.x"})
    with pytest.raises(ConnectionClosed) as ei:
        ws.recv(5)
    assert ei.value.rcvd is not None, f"no close frame received: {ei.value!r}"
    assert ei.value.rcvd.code == 4401
    assert ei.value.rcvd.reason == "token algorithm not allowed (HS256 only)"


def test_no_auth_within_timeout_closes_4401(start_gateway):
    gw = start_gateway({"server": {"auth_timeout_s": 1}})
    ws = gw.connect()
    t0 = time.monotonic()
    code, _ = ws.expect_close(6)
    assert code == 4401
    assert time.monotonic() - t0 < 4


def test_default_auth_timeout_is_5s(gateway):
    ws = gateway.connect()
    t0 = time.monotonic()
    code, _ = ws.expect_close(10)
    elapsed = time.monotonic() - t0
    assert code == 4401
    assert 3.5 < elapsed < 8, elapsed


def test_token_expiry_closes_4401(gateway):
    ws = gateway.connect(gateway.token("TRADER", "short", ttl=2))
    ws.expect("welcome")
    t0 = time.monotonic()
    code, _ = ws.expect_close(8)
    assert code == 4401
    assert time.monotonic() - t0 < 6


def test_token_refresh_keeps_connection(gateway):
    fresh = gateway.token("TRADER", "refresher", ttl=120)
    short = gateway.token("TRADER", "refresher", ttl=2)
    ws = gateway.connect(short)
    unrefreshed = gateway.connect(short)  # the same token, never refreshed: its close marks the expiry
    try:
        first = ws.expect("welcome")
        unrefreshed.expect("welcome")
        ws.send({"type": "auth", "token": fresh})
        renewed = ws.expect("welcome")
        assert renewed["expires_at"] > first["expires_at"], (first, renewed)
        code, _ = unrefreshed.expect_close(10)
        assert code == 4401, "the first token has expired"
        # Each service loop checks expiry every 0.25 s: the refreshed socket, maybe on another
        # loop, must stay open past that loop's next check too (nothing to poll for: absence).
        with pytest.raises(TimeoutError):
            ws.expect_close(1)
        ws.roundtrip_ping()
    finally:
        ws.close()
        unrefreshed.close()
