"""Socket policies (SPEC §5, docs/PROTOCOL.md): authorisation follows a refreshed token,
connection budgets that token-less sockets cannot exhaust, the 4429 close of a sustained flood,
the topics-per-connection cap and `recovered` without `since`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from helpers import ConnectionClosed, InvalidStatus, poll


def event(n: int) -> dict:
    return {"event_type": "test", "schema_version": "2.0", "timestamp": "2026-01-01T00:00:00Z", "n": n}


# -- authorisation follows the token ---------------------------------------------------------------


def test_refresh_to_a_lower_role_ends_forbidden_subscriptions(gateway):
    """TRADER on `portfolio` and `signals` refreshes with a VIEWER token (same sub): `portfolio`
    ends with `unsubscribed` reason `forbidden` before the `welcome`, and a portfolio event
    appended afterwards never arrives (the signals event appended after it is the marker)."""
    ws, _ = gateway.session("TRADER", "demoted")
    try:
        assert gateway.subscribe(ws, "portfolio", id=1)["type"] == "subscribed"
        assert gateway.subscribe(ws, "signals", id=2)["type"] == "subscribed"
        before = gateway.xadd("portfolio", event(1))
        assert ws.expect(lambda f: f.get("type") == "event", timeout=5)["id"] == before

        ws.send({"type": "auth", "token": gateway.token("VIEWER", "demoted")})
        gone = ws.expect("unsubscribed", timeout=5)
        assert gone == {"type": "unsubscribed", "topic": "portfolio", "reason": "forbidden"}, gone
        welcome = ws.expect("welcome", timeout=5)
        assert welcome["role"] == "VIEWER" and welcome["sub"] == "demoted", welcome

        gateway.xadd("portfolio", event(2))
        marker = gateway.xadd("signals", event(3))
        seen = []
        while True:
            f = ws.recv(5)
            seen.append(f)
            if f.get("type") == "event" and f.get("id") == marker:
                break
        assert not [f for f in seen if f.get("topic") == "portfolio"], f"portfolio after the refresh: {seen}"

        again = gateway.subscribe(ws, "portfolio", id=3)
        assert again["type"] == "error" and again["error_code"] == "FORBIDDEN", again
    finally:
        ws.close()


def test_refresh_keeping_the_role_keeps_subscriptions(gateway):
    ws, _ = gateway.session("TRADER", "steady")
    try:
        assert gateway.subscribe(ws, "portfolio", id=1)["type"] == "subscribed"
        ws.send({"type": "auth", "token": gateway.token("ADMIN", "steady")})
        assert ws.expect("welcome", timeout=5)["role"] == "ADMIN"
        entry = gateway.xadd("portfolio", event(1))
        assert ws.expect(lambda f: f.get("type") == "event", timeout=5)["id"] == entry
    finally:
        ws.close()


# -- connection budgets --------------------------------------------------------------------------


def refused_503(e: InvalidStatus) -> dict:
    assert e.response.status_code == 503, e.response.status_code
    body = json.loads(e.response.body)
    assert body["error_code"] == "UNAVAILABLE" and body["message"] and body["request_id"], body
    return body


def test_tokenless_sockets_cannot_exhaust_the_connection_limit(start_gateway):
    """`max_connections` 50 (so `max_unauthenticated` 5): 60 token-less upgrades waiting for
    their auth frame take 5 places and get 503 beyond; a client with a token still connects."""
    gw = start_gateway({"server": {"max_connections": 50, "auth_timeout_s": 60}})
    waiting, refused = [], []
    try:
        for _ in range(60):
            try:
                waiting.append(gw.connect())
            except InvalidStatus as e:
                refused.append(refused_503(e))
        assert len(waiting) == 5 and len(refused) == 55, (len(waiting), len(refused))
        assert "waiting for authentication" in refused[0]["message"], refused[0]

        real, welcome = gw.session("VIEWER", "real")
        assert welcome["type"] == "welcome"
        real.roundtrip_ping()
        real.close()

        # First-frame authentication waits its turn: the waiting budget is full.
        try:
            gw.connect().close()
            raise AssertionError("a sixth token-less socket was let in")
        except InvalidStatus as e:
            refused_503(e)

        # A waiting socket that authenticates moves to the authenticated budget.
        waiting[0].send({"type": "auth", "token": gw.token("VIEWER", "late")})
        assert waiting[0].expect("welcome")["sub"] == "late"
        newcomer = gw.connect()
        newcomer.send({"type": "auth", "token": gw.token("VIEWER", "newcomer")})
        assert newcomer.expect("welcome")["sub"] == "newcomer"
        waiting.append(newcomer)
    finally:
        for ws in waiting:
            ws.close()


def test_first_frame_auth_over_the_connection_limit_closes_4503(start_gateway):
    gw = start_gateway({"server": {"max_connections": 2}})  # max_unauthenticated: 1
    a, _ = gw.session("VIEWER", "a")
    b, _ = gw.session("VIEWER", "b")
    c = gw.connect()
    try:
        c.send({"type": "auth", "token": gw.token("VIEWER", "c")})
        code, frames = c.expect_close(5)
        assert code == 4503, (code, frames)
        assert not [f for f in frames if f.get("type") == "welcome"], frames
        a.roundtrip_ping()
    finally:
        for ws in (a, b, c):
            ws.close()


def test_connections_per_address(start_gateway):
    gw = start_gateway({"server": {"max_connections_per_ip": 3, "per_ip_exempt": []}})
    held = [gw.session("VIEWER", f"u{i}")[0] for i in range(3)]
    try:
        try:
            gw.connect(gw.token("VIEWER", "fourth")).close()
            raise AssertionError("a fourth connection from one address was let in")
        except InvalidStatus as e:
            assert "from one address" in refused_503(e)["message"]
        held.pop().close()

        def fourth():
            try:
                return gw.session("VIEWER", "fourth")[0]
            except InvalidStatus:
                return None

        deadline = time.monotonic() + 5
        while (ws := fourth()) is None:
            assert time.monotonic() < deadline, "the address's place was never given back"
            time.sleep(0.05)
        held.append(ws)
    finally:
        for ws in held:
            ws.close()


# -- rate limit ----------------------------------------------------------------------------------


FLOOD_CLIENT = Path(__file__).with_name("flood_client.py")


def start_flood(gw, sub: str, per_second: int, seconds: float) -> subprocess.Popen:
    """A client (`flood_client.py`, its own process) sending pings at `per_second` until the
    server closes or `seconds` are up."""
    return subprocess.Popen([sys.executable, str(FLOOD_CLIENT), gw.ws_url(gw.token("VIEWER", sub)), str(per_second),
                             str(seconds)], stdout=subprocess.PIPE, text=True)


def flood_outcome(proc: subprocess.Popen) -> tuple:
    """(close code received — "open" when never closed, None when closed without a close frame —,
    messages sent, seconds)."""
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, f"flood client failed ({proc.returncode}): {out}"
    result = json.loads(out.strip().splitlines()[-1])
    return result["code"], result["sent"], result["took"]


def test_sustained_flood_is_closed_4429(start_gateway):
    """Five connections at ~34× the limit (50/s, burst 100: 1,700 messages/s each): each one is
    closed with a real 4429 close frame within a few seconds."""
    gw = start_gateway({"server": {"rate_limit_per_s": 50, "rate_limit_burst": 100}})
    clients = {f"flood{i}": start_flood(gw, f"flood{i}", 1700, 8.0) for i in range(5)}
    outcome = {sub: flood_outcome(proc) for sub, proc in clients.items()}
    for sub, (code, sent, took) in outcome.items():
        assert code == 4429, f"{sub}: {code} after {sent} messages in {took:.1f} s (all: {outcome})"
    polite, _ = gw.session("VIEWER", "polite")
    polite.roundtrip_ping()
    polite.close()


def test_flood_with_megabytes_pending_still_gets_the_close_frame(start_gateway):
    """Masked ping frames written straight to the socket as fast as it takes them (far more than
    the server reads in time): the close decided meanwhile still reaches the client as 4429."""
    gw = start_gateway()
    ws = gw.connect(gw.token("VIEWER", "firehose"), max_queue=None)
    ws.expect("welcome")
    payload = b'{"type":"ping"}'
    blob = (bytes([0x81, 0x80 | len(payload)]) + b"\0\0\0\0" + payload) * 2000  # mask key 0
    deadline = time.monotonic() + 10
    try:
        while ws.conn.protocol.close_rcvd is None and time.monotonic() < deadline:
            try:
                ws.conn.socket.sendall(blob)
            except OSError:
                break
        got = poll(lambda: ws.conn.protocol.close_rcvd, 5)
        assert got is not None and got.code == 4429, got
    finally:
        ws.close()


def test_twice_the_limit_only_loses_messages(start_gateway):
    """A client at just under twice the limit loses the excess but keeps its connection."""
    gw = start_gateway({"server": {"rate_limit_per_s": 50, "rate_limit_burst": 50}})
    outcome = flood_outcome(start_flood(gw, "eager", 90, 3.0))
    assert outcome[0] == "open", outcome


# -- topics per connection -------------------------------------------------------------------------


def test_topics_per_connection_are_capped(start_gateway):
    """The default `max_subscriptions_per_connection` is 200: the 201st topic is refused with
    RATE_LIMITED; after an unsubscribe there is room again. (The burst is raised so that 201
    subscribes sent at once pass the message rate limit.)"""
    gateway = start_gateway({"server": {"rate_limit_burst": 1000}})
    ws, _ = gateway.session("VIEWER", "collector")
    try:
        for n in range(201):
            ws.send({"type": "subscribe", "id": n, "topic": f"klines:M{n}:1m"})
        answers = {}
        while len(answers) < 201:
            f = ws.recv(15)
            if f.get("type") in ("subscribed", "error"):
                answers[f["id"]] = f
        assert all(answers[n]["type"] == "subscribed" for n in range(200))
        refused = answers[200]
        assert refused["type"] == "error" and refused["error_code"] == "RATE_LIMITED", refused
        assert "200" in refused["message"], refused
        ws.send({"type": "unsubscribe", "id": 1000, "topic": "klines:M0:1m"})
        ws.expect("unsubscribed", skip=lambda f: f.get("type") == "event")
        assert gateway.subscribe(ws, "klines:M200:1m", id=1001)["type"] == "subscribed"
    finally:
        ws.close()


# -- recovered without since ---------------------------------------------------------------------


def test_subscribe_without_since_is_not_recovered(gateway):
    """Live only (`since` omitted or `"$"`): nothing was replayed, so `recovered` is false."""
    gateway.xadd("signals", event(1))
    ws, _ = gateway.session("VIEWER", "fresh")
    try:
        assert gateway.subscribe(ws, "signals", id=1)["recovered"] is False
        assert gateway.subscribe(ws, "opportunities", since="$", id=2)["recovered"] is False
    finally:
        ws.close()
