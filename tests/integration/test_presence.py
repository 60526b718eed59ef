"""Presence across gateways (SPEC §14): `GET /v1/presence` lists every user connected to any
gateway sharing the Redis, with `topic` only the connections subscribed to it; `/metrics` shows
this gateway's share; a gateway killed without a goodbye drops out within `presence.ttl_s`."""

from __future__ import annotations

import json
import re
import signal
import time

from helpers import RFC3339, wait_until
from test_http import assert_error_body

TTL = 2
FAST = {"presence": {"ttl_s": TTL}}


def admin_headers(gw) -> dict:
    return {"Authorization": f"Bearer {gw.token('ADMIN', 'ops')}"}


def presence(gw, topic: str | None = None) -> dict:
    path = "/v1/presence" + (f"?topic={topic}" if topic else "")
    status, _, body = gw.http("GET", path, admin_headers(gw))
    assert status == 200, body
    return json.loads(body)


def users(answer: dict) -> dict[str, int]:
    return {u["sub"]: u["connections"] for u in answer["users"]}


def wait_presence(gw, expected: dict[str, int], topic: str | None = None, timeout: float = 10) -> dict:
    """The presence answer once its users and counts are exactly `expected`."""
    def matching() -> dict | None:
        answer = presence(gw, topic)
        return answer if users(answer) == expected else None

    return wait_until(matching, timeout,
                      f"presence{' of ' + topic if topic else ''} to be {expected}",
                      interval=0.1, seen=lambda: presence(gw, topic))


def kill(gw) -> None:
    """SIGKILL: no drain, no goodbye in Redis."""
    gw.signal(signal.SIGKILL)
    gw.proc.wait(10)
    gw.proc = None
    gw.logf.close()


def test_presence_over_two_gateways_with_topic_filter_and_metrics(start_gateway):
    a, b = start_gateway(FAST), start_gateway(FAST)
    alice1, _ = a.session("TRADER", "alice")
    alice2, _ = b.session("TRADER", "alice")
    bob, _ = b.session("VIEWER", "bob")
    try:
        assert a.subscribe(alice1, "signals")["type"] == "subscribed"
        assert b.subscribe(bob, "signals", id=1)["type"] == "subscribed"
        assert b.subscribe(bob, "klines:BTCUSDT:1m", id=2)["type"] == "subscribed"
        assert b.subscribe(bob, "user", id=3)["type"] == "subscribed"
        for gw in (a, b):  # either gateway answers for both
            answer = wait_presence(gw, {"alice": 2, "bob": 1})
            assert answer["total_connections"] == 3 and answer["gateways"] == 2, answer
        roles = {u["sub"]: u["role"] for u in answer["users"]}
        assert roles == {"alice": "TRADER", "bob": "VIEWER"}
        assert all(re.match(RFC3339, u["since"]) for u in answer["users"]), answer
        assert [u["sub"] for u in answer["users"]] == ["alice", "bob"]

        signals = presence(a, "signals")
        assert users(signals) == {"alice": 1, "bob": 1} and signals["total_connections"] == 2, signals
        assert users(presence(a, "klines:BTCUSDT:1m")) == {"bob": 1}
        assert users(presence(a, "user")) == {"bob": 1}
        assert presence(a, "risk") == {"total_connections": 0, "users": [], "gateways": 2}

        b.metrics_with('bedrock_presence_connections{topic="klines"} 1')
        text = b.metrics_with("bedrock_presence_users 2")
        assert 'bedrock_presence_connections{topic="signals"} 1' in text
        a.metrics_with("bedrock_presence_users 1")

        bob.send({"type": "unsubscribe", "id": 4, "topic": "signals"})
        bob.expect("unsubscribed")
        wait_presence(a, {"alice": 1}, topic="signals")
        bob.close()
        wait_presence(a, {"alice": 2})
        b.metrics_with('bedrock_presence_connections{topic="klines"} 0')
    finally:
        for ws in (alice1, alice2, bob):
            ws.close()


def test_a_killed_gateways_connections_vanish_within_the_ttl(start_gateway):
    a, b = start_gateway(FAST), start_gateway(FAST)
    carol, _ = b.session("VIEWER", "carol")
    dave, _ = a.session("VIEWER", "dave")
    try:
        wait_presence(a, {"carol": 1, "dave": 1})
        kill(b)
        killed = time.monotonic()
        answer = wait_presence(a, {"dave": 1}, timeout=TTL + 5)
        assert time.monotonic() - killed <= TTL + 1.5, "gone within the ttl (plus a poll)"
        assert answer["gateways"] == 1, answer
    finally:
        carol.close()
        dave.close()


def test_presence_needs_admin_and_a_known_topic(gateway):
    status, hdrs, body = gateway.http("GET", "/v1/presence")
    assert_error_body(status, hdrs, body, "UNAUTHENTICATED", 401)
    trader = {"Authorization": f"Bearer {gateway.token('TRADER', 'alice')}"}
    status, hdrs, body = gateway.http("GET", "/v1/presence", trader)
    assert_error_body(status, hdrs, body, "FORBIDDEN", 403)
    status, hdrs, body = gateway.http("GET", "/v1/presence?topic=nonsense", admin_headers(gateway))
    err = assert_error_body(status, hdrs, body, "BAD_REQUEST", 400)
    assert "nonsense" in err["message"], err

    ws, _ = gateway.session("ADMIN", "ops")
    try:
        ws.send({"type": "request", "id": 1, "method": "presence.get", "params": {}})
        answer = ws.expect("response")["result"]
        assert answer["gateways"] == 1 and isinstance(answer["users"], list), answer
        wait_presence(gateway, {"ops": 1})
        ws.send({"type": "request", "id": 2, "method": "presence.get", "params": {"topic": 5}})
        assert ws.expect("error")["error_code"] == "BAD_REQUEST"
    finally:
        ws.close()


def test_made_up_klines_topics_count_as_klines(start_gateway):
    """A presence summary has one `klines` row whatever klines topics a connection made up, so
    `?topic=klines:M:I` answers for every klines subscriber."""
    gw = start_gateway(FAST)
    ws, _ = gw.session("VIEWER", "collector")
    try:
        for n in range(5):
            assert gw.subscribe(ws, f"klines:FAKE{n}:1m", id=n)["type"] == "subscribed"
        answer = wait_presence(gw, {"collector": 1}, topic="klines:OTHER:5m")
        assert answer["total_connections"] == 1, answer
        with gw.redis() as r:
            key = next(k for k in r.execute("KEYS", "bedrock:presence:gw:*"))
            summary = json.loads(r.execute("HGET", key, "summary"))
        assert list(summary["topics"]) == ["klines"], summary
    finally:
        ws.close()


def test_a_refresh_that_changes_the_role_updates_presence(start_gateway):
    gw = start_gateway(FAST)
    ws, _ = gw.session("TRADER", "alice")
    try:
        wait_presence(gw, {"alice": 1})
        ws.send({"type": "auth", "token": gw.token("VIEWER", "alice")})
        assert ws.expect("welcome")["role"] == "VIEWER"

        def role() -> str | None:
            found = [u["role"] for u in presence(gw)["users"] if u["sub"] == "alice"]
            return found[0] if found == ["VIEWER"] else None

        wait_until(role, 5, "alice listed as VIEWER", interval=0.1, seen=lambda: presence(gw))
    finally:
        ws.close()
