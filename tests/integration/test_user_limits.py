"""Per-user and per-connection limits (SPEC §14): `server.max_connections_per_user` refuses one
more socket of the same `sub` on this gateway (HTTP 429 RATE_LIMITED at the upgrade, close 4429
when the token came in the first frame); `server.max_subscriptions_per_connection` (and its
deprecated alias `server.max_topics_per_connection`) answers RATE_LIMITED to one more subscribe
and keeps the connection open."""

from __future__ import annotations

import json
import re

import pytest

from helpers import RFC3339, InvalidStatus, poll


def test_one_user_beyond_its_connection_limit_is_refused(start_gateway):
    gw = start_gateway({"server": {"max_connections_per_user": 2, "service_threads": 2}})
    held = [gw.session("TRADER", "alice")[0] for _ in range(2)]  # spread over both loops
    others = []
    try:
        gw.metrics_with('bedrock_loop_connections{loop="0"} 1')  # the limit counts across loops
        gw.metrics_with('bedrock_loop_connections{loop="1"} 1')
        with pytest.raises(InvalidStatus) as refused:
            gw.connect(gw.token("TRADER", "alice"))
        response = refused.value.response
        assert response.status_code == 429
        err = json.loads(response.body)
        assert err["error_code"] == "RATE_LIMITED" and "max_connections_per_user" in err["message"], err
        assert re.match(RFC3339, err["timestamp"]) and err["request_id"], err

        late = gw.connect()  # the token in the first frame: closed with 4429
        late.send({"type": "auth", "token": gw.token("TRADER", "alice")})
        code, _ = late.expect_close(5)
        assert code == 4429

        others.append(gw.session("TRADER", "bob")[0])  # another user is not held back
        held.pop().close()

        def admitted():
            try:
                ws = gw.connect(gw.token("TRADER", "alice"))
            except InvalidStatus:
                return None
            ws.expect("welcome")
            return ws

        again = poll(admitted, 5, interval=0.05)
        assert again, "room again once one of its connections closed"
        others.append(again)
    finally:
        for ws in held + others:
            ws.close()


@pytest.mark.parametrize("config", [
    {"server": {"max_subscriptions_per_connection": 3}},
    {"server": {"max_topics_per_connection": 3}},  # the deprecated alias
])
def test_one_subscription_beyond_the_limit_is_rate_limited_and_the_connection_stays(start_gateway, config):
    gw = start_gateway(config)
    ws, _ = gw.session("VIEWER", "collector")
    try:
        for n, topic in enumerate(["signals", "news", "klines:BTCUSDT:1m"], start=1):
            assert gw.subscribe(ws, topic, id=n)["type"] == "subscribed"
        refused = gw.subscribe(ws, "klines:ETHUSDT:1m", id=4)
        assert refused["type"] == "error" and refused["error_code"] == "RATE_LIMITED", refused
        assert "3" in refused["message"], refused
        ws.roundtrip_ping()
        gw.xadd("signals", {"event_type": "signal.created", "schema_version": "2.0", "market": "BTCUSDT"})
        assert ws.expect("event")["topic"] == "signals", "the subscriptions it holds still deliver"
    finally:
        ws.close()
