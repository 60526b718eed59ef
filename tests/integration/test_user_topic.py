"""Black-box tests of the `user` topic (SPEC §14, docs/PROTOCOL.md): a connection subscribed to
`user` gets the events addressed to its own `sub` — job progress and completion, manual position
actions, notices an ADMIN publishes to `user:<sub>` — on whichever gateway it is connected to,
with frames saying `"topic":"user"`, replayable with `since`; nobody else gets them."""

from __future__ import annotations

import json

from helpers import stream_key
from test_jobs import SMALL, datasets  # noqa: F401  (the module's dataset fixture)
from test_manual_entry import FAST, kline, open_position


def user_events(ws, until, timeout: float = 60) -> list[dict]:
    """`user` event frames read until one matches `until`."""
    got: list[dict] = []

    def done(frame: dict) -> bool:
        if frame.get("type") == "event":
            assert frame["topic"] == "user", frame
            got.append(frame)
            return until(frame["data"])
        return False

    ws.expect(done, skip=lambda f: f.get("type") in ("event", "progress", "completed"), timeout=timeout)
    return got


def nothing_for(ws) -> list[dict]:
    """Frames other than pings this socket got, read up to a ping round trip (the server answers
    in order, so an event already sent would be there)."""
    ws.roundtrip_ping()
    return [f for f in ws.seen if f.get("type") == "event"]


def test_backtest_over_rest_reaches_the_users_sockets_on_another_gateway(start_gateway, redis_server, datasets):
    jobs = {"jobs": {"data_dir": str(datasets)}}
    a = start_gateway(jobs, redis=redis_server.url)
    b = start_gateway(jobs, redis=redis_server.url)
    alice, _ = b.session("VIEWER", "alice")
    alice_a, _ = a.session("TRADER", "alice")
    bob, _ = b.session("VIEWER", "bob")
    for ws in (alice, alice_a, bob):
        answer = b.subscribe(ws, "user")
        assert answer["type"] == "subscribed" and answer["topic"] == "user", answer
    headers = {"Authorization": f"Bearer {a.token('TRADER', 'alice')}", "Content-Type": "application/json"}
    status, _, raw = a.http("POST", "/v1/backtest/submit", headers,
                            json.dumps({"strategy": "sma_cross", "dataset": SMALL}).encode(), timeout=10)
    assert status == 200, raw
    task = json.loads(raw)["task_id"]
    for ws in (alice, alice_a):
        events = user_events(ws, lambda d: d["event_type"] == "job.completed")
        data = [e["data"] for e in events]
        progress = [d["progress"] for d in data if d["event_type"] == "job.progress"]
        assert progress[0] == 0 and progress[-1] == 1, data
        assert all(d["task_id"] == task and d["kind"] == "backtest" for d in data), data
        assert data[-1]["status"] == "COMPLETED" and "error" not in data[-1], data[-1]
        assert all(d["schema_version"] == "2.0" and d["timestamp"] for d in data), data
    assert nothing_for(bob) == []
    with a.redis() as r:
        assert r.execute("XLEN", stream_key("user:alice")) == len(events)
        assert r.execute("EXISTS", stream_key("user:bob")) == 0


def test_notice_and_replay_with_since(gateway):
    admin = {"Authorization": f"Bearer {gateway.token('ADMIN', 'ops')}", "Content-Type": "application/json"}

    def notice(message: str) -> str:
        body = {"topic": "user:carol", "data": {"event_type": "notice", "message": message, "from": "ops"}}
        status, _, raw = gateway.http("POST", "/v1/publish", admin, json.dumps(body).encode())
        assert status == 200, raw
        return json.loads(raw)["id"]

    ws, _ = gateway.session("VIEWER", "carol")
    other, _ = gateway.session("ADMIN", "dave")
    assert gateway.subscribe(ws, "user")["type"] == "subscribed"
    assert gateway.subscribe(other, "user")["type"] == "subscribed"
    first = notice("maintenance at noon")
    [event] = user_events(ws, lambda d: True)
    assert event["id"] == first and event["data"]["message"] == "maintenance at noon", event
    assert event["data"]["event_type"] == "notice" and event["data"]["from"] == "ops", event
    ws.close()
    later = [notice("second"), notice("third")]
    again, _ = gateway.session("VIEWER", "carol")
    answer = gateway.subscribe(again, "user", since=first)
    assert answer["type"] == "subscribed" and answer["recovered"] is True, answer
    assert answer["topic"] == "user" and answer["position"] == later[-1], answer
    replayed = user_events(again, lambda d: d["message"] == "third", timeout=10)
    assert [e["id"] for e in replayed] == later
    assert nothing_for(other) == []
    again.send({"type": "unsubscribe", "id": 9, "topic": "user"})
    assert again.expect("unsubscribed")["topic"] == "user"


def test_manual_position_actions_reach_the_traders_user_topic(start_gateway):
    gw = start_gateway(FAST)
    gw.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 0, 99, 101, 98, 100))
    ws, _ = gw.session("VIEWER", "erin")
    assert gw.subscribe(ws, "user")["type"] == "subscribed"
    status, position = open_position(gw, {"market": "BTCUSDT", "side": "BUY", "stop_loss_price": 95}, sub="erin")
    assert status == 200, position
    [opened] = user_events(ws, lambda d: True)
    assert opened["data"]["event_type"] == "position.manual", opened
    assert opened["data"]["action"] == "opened" and opened["data"]["position_id"] == position["id"], opened
    assert opened["data"]["market"] == "BTCUSDT", opened
    headers = {"Authorization": f"Bearer {gw.token('TRADER', 'erin')}"}
    status, _, raw = gw.http("POST", f"/v1/positions/{position['id']}/close", headers, b"")
    assert status == 200, raw
    [closed] = user_events(ws, lambda d: True)
    assert closed["data"]["action"] == "closed" and closed["data"]["position_id"] == position["id"], closed
    assert closed["data"]["exit_reason"] == "MANUAL", closed
