"""Protocol robustness (SPEC §5): malformed frames, limits, rate limit, heartbeat, requests."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from helpers import RFC3339, ConnectionClosed, InvalidStatus, poll, stream_key


def test_ping_pong(gateway):
    ws, _ = gateway.session("VIEWER", "p")
    try:
        ws.send({"type": "ping"})
        assert ws.expect("pong")["type"] == "pong"
    finally:
        ws.close()


@pytest.mark.parametrize("frame", [
    "this is not json",
    "{\"type\": \"subscribe\", ",
    "[1, 2, 3]",
    "42",
    "\"subscribe\"",
    "{\"id\": 1}",
    "{\"type\": 12}",
    "{\"type\": \"no-such-type\", \"id\": 5}",
    "{\"type\": \"subscribe\", \"id\": 6}",
    "{\"type\": \"subscribe\", \"id\": 7, \"topic\": 12}",
    "{\"type\": \"unsubscribe\", \"id\": 8}",
    "{\"type\": \"request\", \"id\": 9}",
], ids=["not-json", "truncated", "array", "number", "string", "missing-type", "type-not-string",
        "unknown-type", "subscribe-no-topic", "topic-not-string", "unsubscribe-no-topic",
        "request-no-method"])
def test_malformed_frame_gets_bad_request_and_connection_stays(gateway, frame):
    ws, _ = gateway.session("TRADER", "m")
    try:
        ws.send(frame)
        err = ws.expect("error")
        assert err["error_code"] == "BAD_REQUEST", err
        assert err.get("message")
        assert re.match(RFC3339, err.get("timestamp", "")), err
        assert "request_id" in err, err
        ws.roundtrip_ping()
    finally:
        ws.close()


def test_bad_request_error_echoes_id(gateway):
    ws, _ = gateway.session("TRADER", "m")
    try:
        ws.send({"type": "no-such-type", "id": 77})
        err = ws.expect("error")
        assert err["error_code"] == "BAD_REQUEST" and err.get("id") == 77, err
    finally:
        ws.close()


def test_unknown_method_is_not_found_with_id(gateway):
    ws, _ = gateway.session("ADMIN", "a")
    try:
        ws.send({"type": "request", "id": 41, "method": "no.such_method", "params": {}})
        err = ws.expect("error")
        assert err["error_code"] == "NOT_FOUND", err
        assert err["id"] == 41
        ws.roundtrip_ping()
    finally:
        ws.close()


def test_oversized_frame_closes_1009(start_gateway):
    gw = start_gateway({"server": {"max_frame_bytes": 4096}})
    ws, _ = gw.session("TRADER", "big")
    payload = json.dumps({"type": "ping", "pad": "x" * 5000})
    try:
        ws.send(payload)
    except ConnectionClosed:
        pass
    code, _ = ws.expect_close(5)
    assert code == 1009


def test_frame_under_limit_is_fine(start_gateway):
    gw = start_gateway({"server": {"max_frame_bytes": 4096}})
    ws, _ = gw.session("TRADER", "small")
    try:
        ws.send(json.dumps({"type": "ping", "pad": "x" * 3000}))
        ws.expect("pong")
    finally:
        ws.close()


def test_default_frame_limit_is_64k(gateway):
    ws, _ = gateway.session("TRADER", "big")
    try:
        ws.send(json.dumps({"type": "ping", "pad": "x" * 70000}))
    except ConnectionClosed:
        pass
    code, _ = ws.expect_close(5)
    assert code == 1009


def test_rate_limit_warns_then_closes_4429(start_gateway):
    gw = start_gateway({"server": {"rate_limit_per_s": 5, "rate_limit_burst": 10}})
    ws, _ = gw.session("TRADER", "hammer")
    sent = 0
    try:
        for _ in range(500):
            ws.send({"type": "ping"})
            sent += 1
    except ConnectionClosed:
        pass
    code, frames = ws.expect_close(10)
    assert code == 4429
    errors = [f for f in frames if f.get("type") == "error"]
    assert any(e.get("error_code") == "RATE_LIMITED" for e in errors), \
        f"closed 4429 without a RATE_LIMITED error frame first (got {len(frames)} frames)"


def test_rate_limit_error_frame_at_moderate_overload(start_gateway):
    """Slightly over the limit: the dropped message is answered with RATE_LIMITED."""
    gw = start_gateway({"server": {"rate_limit_per_s": 5, "rate_limit_burst": 10}})
    ws, _ = gw.session("TRADER", "eager")
    try:
        for _ in range(13):
            ws.send({"type": "ping"})
        err = ws.expect("error", skip=lambda f: f.get("type") == "pong")
        assert err["error_code"] == "RATE_LIMITED", err
    finally:
        ws.close()


def test_moderate_rate_is_not_limited(start_gateway):
    gw = start_gateway({"server": {"rate_limit_per_s": 20, "rate_limit_burst": 20}})
    ws, _ = gw.session("TRADER", "polite")
    try:
        for _ in range(15):
            ws.send({"type": "ping"})
            ws.expect("pong")
            time.sleep(0.1)  # on purpose: 10 messages/s, half the limit
    finally:
        ws.close()


def test_server_heartbeat_and_timeout_4408(start_gateway):
    gw = start_gateway({"server": {"heartbeat_interval_s": 1, "heartbeat_timeout_s": 3}})
    ws = gw.connect(gw.token("VIEWER", "silent"))
    w = ws.expect("welcome")
    assert w["heartbeat_s"] == 1
    t0 = time.monotonic()
    ping = ws.recv(3)
    assert ping == {"type": "ping"}, ping
    code, _ = ws.expect_close(8)
    assert code == 4408
    assert time.monotonic() - t0 < 6


def test_client_answering_pings_stays_connected(start_gateway):
    gw = start_gateway({"server": {"heartbeat_interval_s": 1, "heartbeat_timeout_s": 3}})
    ws, _ = gw.session("VIEWER", "lively")
    try:
        # The fourth ping comes 1 s after a client that never answered would have been closed.
        deadline = time.monotonic() + 15
        pings = 0
        while pings < 4:
            assert time.monotonic() < deadline, f"only {pings} pings in 15 s; seen {ws.seen[-5:]}"
            try:
                f = ws.recv(0.5)
            except TimeoutError:
                continue
            if f.get("type") == "ping":
                pings += 1
                ws.send({"type": "pong"})
        assert pings >= 3
        ws.roundtrip_ping()
    finally:
        ws.close()


def test_connection_limit(start_gateway):
    gw = start_gateway({"server": {"max_connections": 2}})
    a, _ = gw.session("VIEWER", "a")
    b, _ = gw.session("VIEWER", "b")
    try:
        try:
            c = gw.connect(gw.token("VIEWER", "c"))
        except InvalidStatus as e:
            assert e.response.status_code == 503
        else:
            code, _ = c.expect_close(5)
            assert code == 4503
        a.roundtrip_ping()
        b.roundtrip_ping()
    finally:
        a.close()
        b.close()


def test_slow_consumer_is_cut_off_and_others_are_not_slowed(start_gateway):
    """A client that stops reading is never buffered without bound: once its queue has stayed over
    `server.send_queue_max` for a while (1 s: warning, 5 s: close, see docs/PROTOCOL.md) it is cut
    off with 4429. A subscriber that keeps reading is not slowed down meanwhile.

    Once the client's TCP buffers are full the server may be unable to deliver the warning or even
    the close frame, so a bare disconnect is accepted; a close code, if any, must be 4429."""
    gw = start_gateway({"server": {"send_queue_max": 128}})
    slow = gw.connect(gw.token("VIEWER", "slow"), max_queue=1)
    slow.expect("welcome")
    gw.subscribe(slow, "signals")
    fast, _ = gw.session("VIEWER", "fast")
    gw.subscribe(fast, "signals")
    pad = "y" * 16000
    ids: list[str] = []

    def writer():  # ~32 MB over ~2 s: far more than the slow client's socket buffers hold
        with gw.redis() as r:
            for chunk in range(100):
                ids.extend(r.pipeline([("XADD", stream_key("signals"), "*", "event",
                                        json.dumps({"event_type": "signal.created",
                                                    "n": chunk * 20 + i, "pad": pad}))
                                       for i in range(20)]))
                time.sleep(0.02)  # on purpose: a rate the fast client can keep up with

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    got = 0
    deadline = time.monotonic() + 60
    while got < 2000:
        assert time.monotonic() < deadline, f"fast client got only {got}/{len(ids)}"
        f = fast.recv(10)
        if f.get("type") == "event":
            got += 1
    t.join()
    assert len(ids) == 2000
    fast.close()
    # The slow client keeps not reading (reading would drain its queue) until the server counts
    # it cut off, 5 s after its queue went over the limit; if it never does, the read below fails.
    poll(lambda: "bedrock_slow_consumer_disconnects_total 1" in gw.http("GET", "/metrics")[2].decode(),
         30, interval=0.2)
    try:
        code, frames = slow.expect_close(30)
    except TimeoutError:
        events = sum(1 for f in slow.seen if f.get("type") == "event")
        raise AssertionError(f"the slow client was never cut off (send_queue_max 128): it got "
                             f"{events}/2000 events and the socket is still open; errors seen: "
                             f"{[f for f in slow.seen if f.get('type') == 'error']}") from None
    events = sum(1 for f in frames if f.get("type") == "event")
    warned = any(f.get("type") == "error" and f.get("error_code") == "RATE_LIMITED" for f in frames)
    print(f"slow consumer: {events} events, warned={warned}, close code={code}")
    assert events < len(ids), "the slow client was never cut off"
    assert code in (4429, 1006, None), code
    assert gw.http("GET", "/health")[0] == 200


def test_burst_that_drains_is_not_cut_off(start_gateway):
    """A short burst above send_queue_max that the client reads promptly passes: every event
    arrives, the socket stays open."""
    gw = start_gateway({"server": {"send_queue_max": 64}})
    ws, _ = gw.session("VIEWER", "bursty")
    try:
        gw.subscribe(ws, "signals")
        with gw.redis() as r:
            ids = r.pipeline([("XADD", stream_key("signals"), "*", "event",
                               json.dumps({"event_type": "signal.created", "n": i}))
                              for i in range(1000)])
        got: list[str] = []
        while ids[-1] not in got:
            got.append(ws.expect("event", timeout=5, skip=lambda f: True)["id"])
        assert got == ids
        ws.roundtrip_ping()
        assert [f["id"] for f in ws.seen if f.get("type") == "event"] == ids, "an event arrived twice"
    finally:
        ws.close()
