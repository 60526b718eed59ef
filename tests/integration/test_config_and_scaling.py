"""Configuration seen from outside (SPEC §3), pub/sub bridging and scaling out (SPEC §1, §7)."""

from __future__ import annotations

import json
import os
import stat
import time

from helpers import make_jwt, wait_until


def is_event(topic: str):
    return lambda f: f.get("type") == "event" and f.get("topic") == topic


def test_env_override_wins_over_file(start_gateway):
    gw = start_gateway({"server": {"heartbeat_interval_s": 30, "heartbeat_timeout_s": 90}},
                       env={"BEDROCK_SERVER_HEARTBEAT_INTERVAL_S": "7"})
    ws, w = gw.session("VIEWER", "env")
    try:
        assert w["heartbeat_s"] == 7
    finally:
        ws.close()


def test_dev_mode_creates_secret_file_and_token_uses_it(start_gateway):
    gw = start_gateway({"jwt": {"secret": None}})
    secret_file = gw.data_dir / "jwt.secret"
    assert secret_file.exists(), list(gw.data_dir.iterdir())
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    ws, w = gw.session("TRADER", "dev")  # `bedrock token` signs with the same dev secret
    try:
        assert w["sub"] == "dev"
    finally:
        ws.close()
    # a token signed with the fixture's fixed secret is now refused
    tok = make_jwt({"sub": "x", "role": "ADMIN", "exp": int(time.time()) + 600})
    status, _, _ = gw.http("GET", "/v1/markets", {"Authorization": f"Bearer {tok}"})
    assert status == 401


def test_issuer_and_audience_checked_when_configured(start_gateway):
    gw = start_gateway({"jwt": {"issuer": "https://auth.example", "audience": "bedrock"}})
    now = int(time.time())
    good = make_jwt({"sub": "a", "role": "VIEWER", "exp": now + 600, "iss": "https://auth.example",
                     "aud": "bedrock"})
    wrong_iss = make_jwt({"sub": "a", "role": "VIEWER", "exp": now + 600, "iss": "https://evil",
                          "aud": "bedrock"})
    no_aud = make_jwt({"sub": "a", "role": "VIEWER", "exp": now + 600, "iss": "https://auth.example"})
    assert gw.http("GET", "/v1/nope", {"Authorization": f"Bearer {good}"})[0] == 404
    assert gw.http("GET", "/v1/nope", {"Authorization": f"Bearer {wrong_iss}"})[0] == 401
    assert gw.http("GET", "/v1/nope", {"Authorization": f"Bearer {no_aud}"})[0] == 401
    # `bedrock token` with the same config signs acceptable tokens
    ws, w = gw.session("VIEWER", "cli")
    ws.close()


def test_pubsub_channel_bridged_to_topic(start_gateway, redis_server):
    gw = start_gateway({"redis": {"pubsub_bridge": {"dfp:opportunities:ws": "opportunities"}}})
    ws, _ = gw.session("VIEWER", "opp")
    try:
        assert gw.subscribe(ws, "opportunities")["type"] == "subscribed"
        payload = {"event_type": "opportunity.found", "schema_version": "2.0", "spread": 0.42}
        with redis_server.client() as r:
            # PUBLISH answers how many got it: none until the bridge's SUBSCRIBE is in place.
            receivers = wait_until(lambda: r.execute("PUBLISH", "dfp:opportunities:ws", json.dumps(payload)),
                                   10, "a subscriber to the bridged channel",
                                   seen=lambda: r.execute("PUBSUB", "CHANNELS"))
        assert receivers >= 1, "nobody subscribed to the bridged channel"
        f = ws.expect(is_event("opportunities"), timeout=5)
        assert f["data"] == payload
    finally:
        ws.close()


def test_two_gateways_share_one_redis(start_gateway, redis_server):
    """Scaling out: clients on different gateways all get every event; a client can resume
    on another gateway from its last id."""
    a = start_gateway()
    b = start_gateway()
    wa, _ = a.session("VIEWER", "on-a")
    wb, _ = b.session("VIEWER", "on-b")
    try:
        a.subscribe(wa, "signals")
        b.subscribe(wb, "signals")
        eid = a.xadd("signals", {"event_type": "signal.created", "n": 1})
        assert wa.expect(is_event("signals"))["id"] == eid
        assert wb.expect(is_event("signals"))["id"] == eid
        wa.close()
        missed = [a.xadd("signals", {"event_type": "signal.created", "n": i}) for i in range(2, 6)]
        wa2, _ = b.session("VIEWER", "on-a")
        try:
            sub = b.subscribe(wa2, "signals", since=eid)
            assert sub["recovered"] is True
            got = []
            while len(got) < len(missed):
                f = wa2.expect(is_event("signals"))
                got.append(f["id"])
            assert got == missed
        finally:
            wa2.close()
    finally:
        wb.close()


def test_forbidden_method_gets_forbidden_with_id(gateway):
    ws, _ = gateway.session("VIEWER", "v")
    try:
        ws.send({"type": "request", "id": "k1", "method": "risk.kill_switch",
                 "params": {"enabled": True}})
        err = ws.expect("error")
        assert err["error_code"] == "FORBIDDEN" and err["id"] == "k1", err
        ws.roundtrip_ping()
    finally:
        ws.close()


def test_double_subscribe_and_bad_since(gateway):
    ws, _ = gateway.session("VIEWER", "v")
    try:
        assert gateway.subscribe(ws, "signals", id=1)["type"] == "subscribed"
        again = gateway.subscribe(ws, "signals", id=2)
        assert again["type"] == "error" and again["error_code"] in ("CONFLICT", "BAD_REQUEST"), again
        bad = gateway.subscribe(ws, "opportunities", since="yesterday", id=3)
        assert bad["type"] == "error" and bad["error_code"] == "BAD_REQUEST", bad
        unknown = gateway.subscribe(ws, "no-such-topic", id=4)
        assert unknown["type"] == "error" and unknown["error_code"] in ("BAD_REQUEST", "NOT_FOUND")
        ws.roundtrip_ping()
    finally:
        ws.close()


def test_metrics_count_connections_and_events(gateway):
    ws, _ = gateway.session("VIEWER", "m")
    try:
        gateway.subscribe(ws, "signals")
        gateway.xadd("signals", {"event_type": "signal.created"})
        ws.expect(is_event("signals"))
        text = gateway.http("GET", "/metrics")[2].decode()
        names = {line.split("{")[0].split(" ")[0] for line in text.splitlines()
                 if line and not line.startswith("#")}
        assert any("connection" in n for n in names), sorted(names)
        assert any("redis" in n for n in names), sorted(names)
    finally:
        ws.close()
