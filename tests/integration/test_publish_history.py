"""Black-box tests of the integrator's publish and history (SPEC §14, docs/HTTP.md):
`POST /v1/publish` (ADMIN) appends one event to a topic's stream, once per idempotency key across
every gateway sharing the Redis; `GET /v1/history` pages a stream with since/limit/reverse under
the topic's subscribe role. Bad input is a SPEC §4 error and appends nothing."""

from __future__ import annotations

import json
import re

from helpers import RFC3339, stream_key


def call(gw, method: str, path: str, body=None, role: str = "ADMIN", sub: str = "ops", raw: bytes | None = None):
    headers = {"Authorization": f"Bearer {gw.token(role, sub)}", "Content-Type": "application/json"}
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    status, _, answer = gw.http(method, path, headers, data)
    return status, json.loads(answer) if answer else None


def publish(gw, body, **kw):
    return call(gw, "POST", "/v1/publish", body, **kw)


def history(gw, query: str, **kw):
    return call(gw, "GET", f"/v1/history?{query}", **kw)


def streams(gw) -> dict[str, int]:
    with gw.redis() as r:
        return {k: r.execute("XLEN", k) for k in r.execute("KEYS", "bedrock:stream:*")}


def assert_error(status: int, body: dict, want_status: int, code: str) -> None:
    assert status == want_status, body
    assert body["error_code"] == code, body
    assert body["message"] and body["request_id"], body
    assert re.match(RFC3339, body["timestamp"]), body


def test_publish_roles_and_bad_input_append_nothing(gateway):
    good = {"topic": "signals", "data": {"x": 1}}
    for role in ("VIEWER", "TRADER"):
        status, body = publish(gateway, good, role=role)
        assert_error(status, body, 403, "FORBIDDEN")
    bad = [
        ({"data": {"x": 1}}, "topic"),
        ({"topic": "nope", "data": {}}, "nope"),
        ({"topic": "klines:BTCUSDT:7m", "data": {}}, "klines:BTCUSDT:7m"),
        ({"topic": "user", "data": {}}, "user"),
        ({"topic": "user:", "data": {}}, "user:"),
        ({"topic": "signals", "data": [1, 2]}, "data"),
        ({"topic": "signals", "data": "text"}, "data"),
        ({"topic": "signals"}, "data"),
        ({"topic": "signals", "data": {"blob": "x" * 70_000}}, "data"),
        ({"topic": "signals", "data": {}, "idempotency_key": ""}, "idempotency_key"),
        ({"topic": "signals", "data": {}, "idempotency_key": "k" * 201}, "idempotency_key"),
        ({"topic": "signals", "data": {}, "idempotency_key": "clé"}, "idempotency_key"),
        ({"topic": "signals", "data": {}, "idempotency_key": 7}, "idempotency_key"),
    ]
    for body, named in bad:
        status, answer = publish(gateway, body)
        assert_error(status, answer, 400, "BAD_REQUEST")
        assert named in answer["message"], (body, answer)
    status, answer = publish(gateway, None, raw=b"{not json")
    assert_error(status, answer, 400, "BAD_REQUEST")
    assert streams(gateway) == {}
    with gateway.redis() as r:
        assert r.execute("KEYS", "bedrock:idempotency:*") == []


def test_published_event_reaches_a_subscriber_with_the_envelope(gateway):
    ws, _ = gateway.session("VIEWER", "watcher")
    assert gateway.subscribe(ws, "klines:BTCUSDT:1m")["type"] == "subscribed"
    status, body = publish(gateway, {"topic": "klines:btc-usdt:1m", "data": {"close": 101.5, "note": "hi"}})
    assert status == 200, body
    assert body["topic"] == "klines:BTCUSDT:1m" and body["duplicate"] is False, body
    event = ws.expect("event")
    assert event["topic"] == "klines:BTCUSDT:1m" and event["id"] == body["id"], event
    data = event["data"]
    assert data["event_type"] == "message" and data["schema_version"] == "2.0", data
    assert re.match(RFC3339, data["timestamp"]), data
    assert data["close"] == 101.5 and data["note"] == "hi", data
    status, body = publish(gateway, {"topic": "signals", "data": {"event_type": "custom", "timestamp": "t0"}})
    assert status == 200, body
    with gateway.redis() as r:
        [(_, fields)] = r.xrange(stream_key("signals"))
    stored = json.loads(fields["event"])
    assert stored["event_type"] == "custom" and stored["timestamp"] == "t0", stored
    ws.close()


def test_idempotency_across_two_gateways(start_gateway, redis_server):
    a = start_gateway(redis=redis_server.url)
    b = start_gateway(redis=redis_server.url)
    body = {"topic": "signals", "data": {"order": 42}, "idempotency_key": "order-42 created"}
    status, first = publish(a, body)
    assert status == 200 and first["duplicate"] is False, first
    status, again = publish(b, body)
    assert status == 200, again
    assert again == {"id": first["id"], "topic": "signals", "duplicate": True}
    assert streams(a) == {stream_key("signals"): 1}
    status, answer = publish(b, {**body, "data": {"order": 43}})
    assert_error(status, answer, 409, "CONFLICT")
    status, answer = publish(a, {**body, "topic": "opportunities"})
    assert_error(status, answer, 409, "CONFLICT")
    assert streams(a) == {stream_key("signals"): 1}
    with a.redis() as r:
        ttl = r.execute("TTL", "bedrock:idempotency:ops:order-42 created")
    assert 86_000 < ttl <= 86_400, ttl
    b.metrics_with('bedrock_publish_total{result="duplicate"} 1')
    a.metrics_with('bedrock_publish_total{result="appended"} 1')
    # Keys are per caller: another integrator's "order-42 created" is its own, appended.
    status, other = publish(b, {**body, "data": {"order": 43}}, sub="backend-2")
    assert status == 200 and other["duplicate"] is False and other["id"] != first["id"], other
    assert streams(a) == {stream_key("signals"): 2}


def test_history_since_limit_reverse_and_roles(gateway):
    ids = []
    for n in range(5):
        status, body = publish(gateway, {"topic": "portfolio", "data": {"n": n}})
        assert status == 200, body
        ids.append(body["id"])

    def page(query: str, role: str = "TRADER") -> list:
        status, body = history(gateway, query, role=role)
        assert status == 200, body
        assert body["topic"] == "portfolio", body
        return [(e["id"], e["data"]["n"]) for e in body["events"]]

    assert page("topic=portfolio") == list(zip(ids, range(5)))
    assert page("topic=portfolio&limit=2") == list(zip(ids[:2], range(2)))
    assert page(f"topic=portfolio&since={ids[1]}") == list(zip(ids[2:], range(2, 5)))
    assert page("topic=portfolio&reverse=true&limit=2") == [(ids[4], 4), (ids[3], 3)]
    assert page(f"topic=portfolio&reverse=true&since={ids[2]}") == [(ids[1], 1), (ids[0], 0)]
    assert page(f"topic=portfolio&since={ids[4]}") == []
    assert page("topic=portfolio&reverse=true&since=0-0") == []
    # `next`: where the following page starts (an entry that is not an object read but left out), null at the end.
    with gateway.redis() as r:
        junk = r.execute("XADD", "bedrock:stream:portfolio", "*", "event", "not json")
    status, body = history(gateway, f"topic=portfolio&since={ids[4]}&limit=1", role="TRADER")
    assert status == 200 and body["events"] == [] and body["next"] == junk, body
    status, body = history(gateway, f"topic=portfolio&since={ids[2]}&limit=2", role="TRADER")
    assert [e["id"] for e in body["events"]] == ids[3:] and body["next"] == ids[4], body
    status, body = history(gateway, f"topic=portfolio&since={junk}", role="TRADER")
    assert body == {"topic": "portfolio", "events": [], "next": None}, body
    status, body = history(gateway, "topic=portfolio", role="VIEWER")
    assert_error(status, body, 403, "FORBIDDEN")
    for query, named in [("since=1-0", "topic"), ("topic=nope", "nope"), ("topic=portfolio&since=abc", "since"),
                         ("topic=portfolio&limit=0", "limit"), ("topic=portfolio&limit=1001", "limit"),
                         ("topic=portfolio&limit=x", "limit"), ("topic=portfolio&reverse=maybe", "reverse")]:
        status, body = history(gateway, query)
        assert_error(status, body, 400, "BAD_REQUEST")
        assert named in body["message"], (query, body)


def test_history_of_user_streams(gateway):
    status, body = publish(gateway, {"topic": "user:alice", "data": {"event_type": "notice", "message": "hi",
                                                                     "from": "ops"}})
    assert status == 200 and body["topic"] == "user:alice", body
    status, mine = history(gateway, "topic=user", role="VIEWER", sub="alice")
    assert status == 200, mine
    assert mine["topic"] == "user" and [e["id"] for e in mine["events"]] == [body["id"]], mine
    assert mine["events"][0]["data"]["message"] == "hi"
    status, other = history(gateway, "topic=user", role="VIEWER", sub="bob")
    assert status == 200 and other["events"] == [], other
    status, answer = history(gateway, "topic=user:alice", role="TRADER", sub="bob")
    assert_error(status, answer, 403, "FORBIDDEN")
    status, admin = history(gateway, "topic=user:alice")
    assert status == 200 and admin["topic"] == "user:alice" and len(admin["events"]) == 1, admin
