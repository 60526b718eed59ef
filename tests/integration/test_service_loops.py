"""Several service loops behind one port (`server.service_threads`): connections spread over the
loops, every subscriber gets every event whichever loop serves it, /metrics adds the loops up."""

from __future__ import annotations

import json
import re
import signal
import threading
import time

from helpers import stream_key, wait_until


def loop_connections(text: str) -> dict[str, int]:
    return {m.group(1): int(float(m.group(2)))
            for m in re.finditer(r'^bedrock_loop_connections\{loop="(\d+)"\} (\S+)$', text, re.M)}


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert m, f"{name} missing from /metrics"
    return float(m.group(1))


def event_ids(ws, topic: str, count: int, timeout: float = 10.0) -> list[str]:
    ids: list[str] = []
    deadline = time.monotonic() + timeout
    while len(ids) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"got {len(ids)} of {count} events"
        frame = ws.recv(timeout=left)
        if frame.get("type") == "event" and frame.get("topic") == topic:
            ids.append(frame["id"])
    return ids


def test_connections_spread_over_loops_and_every_one_gets_every_event(start_gateway):
    gw = start_gateway({"server": {"service_threads": 3}})
    sockets = [gw.session("VIEWER", f"v{i}")[0] for i in range(9)]
    try:
        for ws in sockets:
            assert gw.subscribe(ws, "signals")["type"] == "subscribed"
        text = gw.http("GET", "/metrics")[2].decode()
        assert metric(text, "bedrock_service_loops") == 3
        assert loop_connections(text) == {"0": 3, "1": 3, "2": 3}, loop_connections(text)
        assert metric(text, "bedrock_connections") == 9
        assert metric(text, "bedrock_authenticated_connections") == 9
        # Counters kept by each loop are added up: one subscribe frame from each socket.
        assert metric(text, "bedrock_ws_messages_in_total") == 9
        assert metric(text, "bedrock_topics_active") == 1

        published = [gw.xadd("signals", {"event_type": "signal.created", "n": n}) for n in range(40)]
        for ws in sockets:
            assert event_ids(ws, "signals", 40) == published

        text = gw.http("GET", "/metrics")[2].decode()
        assert 'bedrock_events_ingested_total{topic="signals"} 40' in text, "each event counted once, not once per loop"
        assert 'bedrock_ws_event_deliveries_total{topic="signals"} 360' in text
        status, _, body = gw.http("GET", "/ready")
        assert status == 200 and b'"active_connections":9' in body.replace(b" ", b"")
    finally:
        for ws in sockets:
            ws.close()
    # Closed sockets leave every loop's count.
    def counts() -> dict[str, int]:
        return loop_connections(gw.http("GET", "/metrics")[2].decode())

    wait_until(lambda: counts() == {"0": 0, "1": 0, "2": 0}, 10, "no connection left on any loop",
               seen=lambda: gw.http("GET", "/metrics")[2].decode())


def test_subscribers_joining_on_another_loop_mid_stream_miss_nothing(start_gateway):
    """The topic is already live on one loop while events keep coming; subscribers on the other
    loop join live and with `since`, and get an exact, ordered suffix of the stream."""
    gw = start_gateway({"server": {"service_threads": 2}})
    first, _ = gw.session("VIEWER", "first")
    assert gw.subscribe(first, "signals")["type"] == "subscribed"
    stop = threading.Event()
    appended: list[str] = []

    def publish():  # as fast as one connection can: the bridge reads a batch every moment
        n = 0
        with gw.redis() as r:
            while not stop.is_set() and n < 20000:
                appended.append(r.xadd(stream_key("signals"), json.dumps({"event_type": "signal.created", "n": n})))
                n += 1

    publisher = threading.Thread(target=publish)
    publisher.start()
    late = []
    try:
        wait_until(lambda: len(appended) > 10, 10, "the publisher to append 11 events", seen=lambda: len(appended))
        since = appended[10]
        live_ws, _ = gw.session("VIEWER", "live")  # the other loop: it holds fewer connections
        live = gw.subscribe(live_ws, "signals")
        replay_ws, _ = gw.session("VIEWER", "replay")
        replayed = gw.subscribe(replay_ws, "signals", since=since, id=2)
        late = [live_ws, replay_ws]
        assert live["type"] == "subscribed" and replayed["type"] == "subscribed" and replayed["recovered"] is True
        text = gw.http("GET", "/metrics")[2].decode()
        assert sorted(loop_connections(text).values()) == [1, 2], loop_connections(text)
        # Events keep coming after the late subscribers joined (or the publisher hit its cap).
        joined = len(appended)
        wait_until(lambda: len(appended) >= joined + 200 or not publisher.is_alive(), 10,
                   "the publisher to append 200 more events", seen=lambda: len(appended))
    finally:
        stop.set()
        publisher.join()
    try:
        everything = list(appended)
        assert event_ids(first, "signals", len(everything)) == everything
        start = everything.index(live["position"]) + 1
        assert event_ids(late[0], "signals", len(everything) - start) == everything[start:]
        start = everything.index(since) + 1
        assert event_ids(late[1], "signals", len(everything) - start) == everything[start:]
    finally:
        for ws in [first, *late]:
            ws.close()


def test_one_service_loop_still_serves(start_gateway):
    gw = start_gateway({"server": {"service_threads": 1}})
    ws, _ = gw.session("VIEWER", "solo")
    try:
        gw.subscribe(ws, "signals")
        ids = [gw.xadd("signals", {"event_type": "signal.created", "n": n}) for n in range(5)]
        assert event_ids(ws, "signals", 5) == ids
        text = gw.http("GET", "/metrics")[2].decode()
        assert metric(text, "bedrock_service_loops") == 1
        assert loop_connections(text) == {"0": 1}
    finally:
        ws.close()


def test_shutdown_closes_clients_on_every_loop_with_1001(start_gateway):
    gw = start_gateway({"server": {"service_threads": 2}})
    sockets = [gw.session("VIEWER", f"s{i}")[0] for i in range(4)]
    assert sorted(loop_connections(gw.http("GET", "/metrics")[2].decode()).values()) == [2, 2]
    gw.signal(signal.SIGTERM)
    assert [ws.expect_close()[0] for ws in sockets] == [1001] * 4
    assert gw.stop() == 0


def test_tls_connections_on_every_loop(start_gateway, tls_cert):
    """wss and https on each loop: the loops other than the first get their TLS sockets handed
    over before the handshake, and must finish it and the upgrade like the first."""
    gw = start_gateway({"server": {"service_threads": 3}}, tls=tls_cert)
    for _ in range(3):
        status, _, body = gw.http("GET", "/health")
        assert status == 200 and b"healthy" in body
    sockets = [gw.session("VIEWER", f"t{i}")[0] for i in range(6)]
    try:
        assert loop_connections(gw.http("GET", "/metrics")[2].decode()) == {"0": 2, "1": 2, "2": 2}
        for ws in sockets:
            gw.subscribe(ws, "signals")
        eid = gw.xadd("signals", {"event_type": "signal.created", "n": 1})
        for ws in sockets:
            assert event_ids(ws, "signals", 1) == [eid]
    finally:
        for ws in sockets:
            ws.close()
