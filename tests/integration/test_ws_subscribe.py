"""Subscriptions, the Redis stream bridge and replay (SPEC §5, §6, §7)."""

from __future__ import annotations

import json
import threading
import time

from helpers import stream_key, wait_until


def signal_event(n: int) -> dict:
    return {"event_type": "signal.created", "schema_version": "2.0",
            "timestamp": "2026-01-01T00:00:00Z", "id": f"sig-{n}", "market": "BTCUSDT", "n": n}


def is_event(topic: str):
    return lambda f: f.get("type") == "event" and f.get("topic") == topic


def collect_events(ws, topic: str, until_id: str, timeout: float = 15.0) -> list[dict]:
    """Event frames of `topic` until one with id `until_id` arrives."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{until_id} not received; got {len(out)} events, last {out[-1:]}"
        f = ws.recv(remaining)
        if is_event(topic)(f):
            out.append(f)
            if f["id"] == until_id:
                return out


def id_key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def test_subscribe_answers_subscribed(gateway):
    ws, _ = gateway.session("VIEWER", "v")
    try:
        sub = gateway.subscribe(ws, "signals", id=7)
        assert sub["type"] == "subscribed", sub
        assert sub["id"] == 7 and sub["topic"] == "signals"
        assert "position" in sub and "recovered" in sub
    finally:
        ws.close()


def test_xadd_reaches_subscriber(gateway):
    ws, _ = gateway.session("VIEWER", "v")
    try:
        assert gateway.subscribe(ws, "signals")["type"] == "subscribed"
        ev = signal_event(1)
        entry_id = gateway.xadd("signals", ev)
        f = ws.expect(is_event("signals"), timeout=5)
        assert f["id"] == entry_id
        assert f["data"] == ev
    finally:
        ws.close()


def test_position_is_newest_id_and_live_subscription_skips_old_events(gateway):
    old = [gateway.xadd("signals", signal_event(i)) for i in range(3)]
    ws, _ = gateway.session("VIEWER", "v")
    try:
        sub = gateway.subscribe(ws, "signals")
        assert sub["type"] == "subscribed"
        assert sub["position"] == old[-1]
        new_id = gateway.xadd("signals", signal_event(99))
        f = ws.expect(is_event("signals"), timeout=5)
        assert f["id"] == new_id, "an event older than the subscription was delivered"
    finally:
        ws.close()


def test_dollar_since_is_live_only(gateway):
    gateway.xadd("signals", signal_event(0))
    ws, _ = gateway.session("VIEWER", "v")
    try:
        assert gateway.subscribe(ws, "signals", since="$")["type"] == "subscribed"
        new_id = gateway.xadd("signals", signal_event(1))
        assert ws.expect(is_event("signals"))["id"] == new_id
    finally:
        ws.close()


def test_since_zero_replays_everything_retained(gateway):
    ids = [gateway.xadd("signals", signal_event(i)) for i in range(5)]
    ws, _ = gateway.session("VIEWER", "v")
    try:
        sub = gateway.subscribe(ws, "signals", since="0")
        assert sub["type"] == "subscribed"
        got = collect_events(ws, "signals", ids[-1])
        assert [f["id"] for f in got] == ids
        assert [f["data"]["n"] for f in got] == list(range(5))
    finally:
        ws.close()


def test_replay_joins_live_with_no_gap_and_no_duplicate(gateway):
    """Subscribe with `since` while another client keeps appending: every id after `since`
    arrives exactly once, in order (compared with XRANGE)."""
    ids = [gateway.xadd("signals", signal_event(i)) for i in range(50)]
    since = ids[9]
    stop = threading.Event()
    appended: list[str] = []

    def writer():
        with gateway.redis() as r:
            n = 1000
            while not stop.is_set() and n < 1600:
                appended.append(r.xadd(stream_key("signals"), json.dumps(signal_event(n))))
                n += 1
                time.sleep(0.002)  # on purpose: a steady trickle that outlasts the replay

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        wait_until(lambda: appended, 10, "the writer's first append")
        ws, _ = gateway.session("VIEWER", "replayer")
        try:
            sub = gateway.subscribe(ws, "signals", since=since)
            assert sub["type"] == "subscribed", sub
            assert sub["recovered"] is True, sub
            # Keep appending while the replay is under way.
            subscribed_at = len(appended)
            wait_until(lambda: len(appended) >= subscribed_at + 200 or not t.is_alive(), 10,
                       "the writer to append 200 more events", seen=lambda: len(appended))
            stop.set()
            t.join(10)
            with gateway.redis() as r:
                expected = [eid for eid, _ in r.xrange(stream_key("signals"), "(" + since, "+")]
            got = collect_events(ws, "signals", expected[-1], timeout=20)
            got_ids = [f["id"] for f in got]
            assert len(got_ids) == len(set(got_ids)), "duplicate events"
            assert got_ids == sorted(got_ids, key=id_key), "events out of order"
            assert got_ids == expected, (
                f"missing {sorted(set(expected) - set(got_ids), key=id_key)[:5]}, "
                f"extra {sorted(set(got_ids) - set(expected), key=id_key)[:5]}")
            assert len(appended) > 10, "the writer did not overlap the replay"
            # and the live stream still flows afterwards
            last = gateway.xadd("signals", signal_event(5000))
            assert ws.expect(is_event("signals"))["id"] == last
        finally:
            ws.close()
    finally:
        stop.set()
        t.join(10)


def test_resume_after_disconnect(gateway):
    """A client that reconnects with its last id gets exactly what it missed."""
    ws, _ = gateway.session("VIEWER", "resumer")
    gateway.subscribe(ws, "signals")
    first = gateway.xadd("signals", signal_event(1))
    assert ws.expect(is_event("signals"))["id"] == first
    ws.close()
    missed = [gateway.xadd("signals", signal_event(i)) for i in range(2, 12)]
    ws2, _ = gateway.session("VIEWER", "resumer")
    try:
        sub = gateway.subscribe(ws2, "signals", since=first)
        assert sub["recovered"] is True
        got = collect_events(ws2, "signals", missed[-1])
        assert [f["id"] for f in got] == missed
    finally:
        ws2.close()


def test_recovered_false_after_trim(gateway):
    ids = [gateway.xadd("signals", signal_event(i)) for i in range(10)]
    since = ids[2]
    with gateway.redis() as r:
        r.execute("XTRIM", stream_key("signals"), "MAXLEN", "0")
    after_trim = [gateway.xadd("signals", signal_event(i)) for i in range(100, 102)]
    ws, _ = gateway.session("VIEWER", "late")
    try:
        sub = gateway.subscribe(ws, "signals", since=since)
        assert sub["type"] == "subscribed", sub
        assert sub["recovered"] is False, sub
        # never a partial replay: the client reloads its state; live events still flow
        live = gateway.xadd("signals", signal_event(200))
        f = ws.expect(is_event("signals"), timeout=5)
        assert f["id"] not in after_trim, "partial replay after recovered:false"
        assert f["id"] == live
    finally:
        ws.close()


def test_recovered_false_when_stream_trimmed_empty(gateway):
    ids = [gateway.xadd("signals", signal_event(i)) for i in range(10)]
    with gateway.redis() as r:
        r.execute("XTRIM", stream_key("signals"), "MAXLEN", "0")
    ws, _ = gateway.session("VIEWER", "late")
    try:
        sub = gateway.subscribe(ws, "signals", since=ids[2])
        assert sub["recovered"] is False, sub
    finally:
        ws.close()


def test_viewer_forbidden_topic_keeps_connection(gateway):
    ws, _ = gateway.session("VIEWER", "v")
    try:
        err = gateway.subscribe(ws, "portfolio", id=3)
        assert err["type"] == "error", err
        assert err["error_code"] == "FORBIDDEN"
        assert err.get("id") == 3
        ws.roundtrip_ping()
        # nothing else: no event of the forbidden topic reaches the client
        gateway.xadd("portfolio", {"event_type": "portfolio.updated", "schema_version": "2.0"})
        assert gateway.subscribe(ws, "signals", id=4)["type"] == "subscribed"
        sid = gateway.xadd("signals", signal_event(1))
        f = ws.expect(lambda f: f.get("type") == "event")
        assert f["topic"] == "signals" and f["id"] == sid
    finally:
        ws.close()


def test_trader_may_subscribe_portfolio_and_viewer_klines(gateway):
    ws, _ = gateway.session("TRADER", "t")
    try:
        assert gateway.subscribe(ws, "portfolio")["type"] == "subscribed"
        eid = gateway.xadd("portfolio", {"event_type": "portfolio.updated", "schema_version": "2.0"})
        assert ws.expect(is_event("portfolio"))["id"] == eid
    finally:
        ws.close()
    ws, _ = gateway.session("VIEWER", "v")
    try:
        assert gateway.subscribe(ws, "klines:BTCUSDT:1m")["type"] == "subscribed"
        eid = gateway.xadd("klines:BTCUSDT:1m", {"event_type": "kline.closed", "schema_version": "2.0",
                                                 "market": "BTCUSDT", "interval": "1m"})
        assert ws.expect(is_event("klines:BTCUSDT:1m"))["id"] == eid
    finally:
        ws.close()


def test_unsubscribe_stops_events(gateway):
    ws, _ = gateway.session("VIEWER", "v")
    try:
        gateway.subscribe(ws, "signals", id=1)
        gateway.subscribe(ws, "opportunities", id=2)
        ws.send({"type": "unsubscribe", "id": 3, "topic": "signals"})
        u = ws.expect("unsubscribed")
        assert u["id"] == 3 and u["topic"] == "signals"
        gateway.xadd("signals", signal_event(1))
        oid = gateway.xadd("opportunities", {"event_type": "opportunity", "schema_version": "2.0"})
        f = ws.expect(lambda f: f.get("type") == "event")
        assert f["topic"] == "opportunities" and f["id"] == oid, "event after unsubscribe"
    finally:
        ws.close()


def test_fan_out_to_many_subscribers(gateway):
    clients = []
    try:
        for i in range(20):
            ws, _ = gateway.session("VIEWER", f"fan{i}")
            gateway.subscribe(ws, "signals")
            clients.append(ws)
        ids = [gateway.xadd("signals", signal_event(i)) for i in range(50)]
        for ws in clients:
            got = collect_events(ws, "signals", ids[-1])
            assert [f["id"] for f in got] == ids
    finally:
        for ws in clients:
            ws.close()


def test_burst_is_received_complete_through_batched_frames(gateway):
    """Frames may be batched (several JSON objects per text frame, split on newline)."""
    ws, _ = gateway.session("VIEWER", "burst")
    try:
        gateway.subscribe(ws, "signals")
        with gateway.redis() as r:
            replies = r.pipeline([("XADD", stream_key("signals"), "*", "event",
                                   json.dumps(signal_event(i))) for i in range(2000)])
        got = collect_events(ws, "signals", replies[-1], timeout=30)
        assert [f["id"] for f in got] == replies
        print(f"2000 events arrived in {ws.text_frames} text frames")
    finally:
        ws.close()


def test_large_replay_is_not_mistaken_for_a_slow_consumer(start_gateway):
    """Reconnecting with an old `since` replays a backlog far larger than send_queue_max: the
    client that reads it gets every event and is not cut off."""
    gw = start_gateway({"server": {"send_queue_max": 64}})
    with gw.redis() as r:
        ids = r.pipeline([("XADD", stream_key("signals"), "*", "event",
                           json.dumps(signal_event(i))) for i in range(6000)])
    ws, _ = gw.session("VIEWER", "backlog")
    try:
        sub = gw.subscribe(ws, "signals", since="0")
        assert sub["type"] == "subscribed" and sub["recovered"] is True, sub
        got = collect_events(ws, "signals", ids[-1], timeout=30)
        assert [f["id"] for f in got] == ids
        live = gw.xadd("signals", signal_event(9999))
        assert ws.expect(is_event("signals"))["id"] == live
    finally:
        ws.close()


def test_backlog_over_replay_max_is_not_recovered(start_gateway):
    """More than `redis.replay_max` entries after `since`: recovered false, nothing replayed."""
    gw = start_gateway({"redis": {"replay_max": 100}})
    with gw.redis() as r:
        ids = r.pipeline([("XADD", stream_key("signals"), "*", "event",
                           json.dumps(signal_event(i))) for i in range(500)])
    ws, _ = gw.session("VIEWER", "far-behind")
    try:
        sub = gw.subscribe(ws, "signals", since=ids[0])
        assert sub["type"] == "subscribed" and sub["recovered"] is False, sub
        live = gw.xadd("signals", signal_event(9999))
        assert ws.expect(is_event("signals"))["id"] == live, "partial replay"
    finally:
        ws.close()
