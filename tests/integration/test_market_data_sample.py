"""Live ingest in `serve` on the built-in `sample` exchange (SPEC §10): history then one bar every
`market_data.sample_bar_s`, each bar once and in order across restarts and across two gateways
sharing one Redis (one gateway at a time holds a market's lease), the status hash, `/ready` and
`/metrics`."""

from __future__ import annotations

import json

from helpers import stream_key, wait_until

FAST = {"market_data": {"sample_bar_s": 0.2, "backfill_bars": 50, "lease_ms": 1000},
        "engine": {"strategies": []}}


def open_times(gw, topic: str) -> list[str]:
    with gw.redis() as r:
        return [json.loads(fields["event"])["open_time"] for _, fields in r.xrange(stream_key(topic))]


def events(gw, topic: str) -> list[dict]:
    with gw.redis() as r:
        return [json.loads(fields["event"]) for _, fields in r.xrange(stream_key(topic))]


def assert_each_bar_once_in_order(times: list[str], step_hours: int = 1) -> None:
    from datetime import datetime, timedelta
    parsed = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times]
    steps = {b - a for a, b in zip(parsed, parsed[1:])}
    assert steps == {timedelta(hours=step_hours)}, f"not one bar per interval: {sorted(steps)[:5]}"


def test_sample_feed_backfills_then_streams_live_bars_to_subscribers(start_gateway):
    gw = start_gateway(FAST, env={"BEDROCK_MARKET_DATA_MARKETS": "sample:btc-usdt:1h"})
    topic = "klines:BTCUSDT:1h"
    wait_until(lambda: len(open_times(gw, topic)) >= 50, 15, "the 50 history bars")
    history = events(gw, topic)[:50]
    assert all(e["symbol"] == "BTC/USDT" and e["market"] == "BTCUSDT" for e in history)
    assert all(e.get("backfill") is True for e in history[:49]), "history bars are marked"
    ws, _ = gw.session("VIEWER", "viewer")
    assert gw.subscribe(ws, topic)["type"] == "subscribed"
    live = ws.expect(lambda f: f.get("type") == "event" and f["topic"] == topic, timeout=10)
    assert live["data"]["event_type"] == "kline.closed"
    assert "backfill" not in live["data"], "a bar that just closed trades"
    nxt = ws.expect(lambda f: f.get("type") == "event" and f["topic"] == topic, timeout=10)
    assert nxt["data"]["open_time"] > live["data"]["open_time"]
    assert_each_bar_once_in_order(open_times(gw, topic))

    status, _, ready = gw.get_json("/ready")
    assert status == 200
    assert ready["checks"]["market_data"] == {"status": "ok", "markets": 1, "ingesting": 1, "stale": []}
    with gw.redis() as r:
        flat = r.execute("HGETALL", "bedrock:market_data:BTCUSDT:1h")
    state = dict(zip(flat[0::2], flat[1::2]))
    assert state["exchange"] == "sample" and state["symbol"] == "BTC/USDT" and state["status"] == "live"
    gw.metrics_with('bedrock_market_data_bars_total{market="BTCUSDT",interval="1h"}')

    # GET /v1/markets: the feed's exchange, symbol and status; the age a client shows counts from
    # when the last bar arrived (the sample's own clock runs ahead of the calendar).
    status, _, listing = gw.get_json("/v1/markets", headers={"Authorization": f"Bearer {gw.token('VIEWER')}"})
    assert status == 200
    market = next(m for m in listing["data"] if m["market"] == "BTCUSDT")
    assert (market["exchange"], market["symbol"], market["status"]) == ("sample", "BTC/USDT", "live")
    entry = market["intervals"][0]
    assert entry["status"] == "live" and entry["bars"] >= 51
    from datetime import datetime, timezone
    received = datetime.fromisoformat(entry["received_at"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - received).total_seconds()) < 10


def test_a_restart_continues_the_series_without_a_hole_or_a_duplicate(start_gateway):
    env = {"BEDROCK_MARKET_DATA_MARKETS": "sample:ETH/USDT:1h"}
    gw = start_gateway(FAST, env=env)
    topic = "klines:ETHUSDT:1h"
    wait_until(lambda: len(open_times(gw, topic)) >= 60, 20, "history and live bars")
    assert gw.stop() == 0
    with gw.redis() as r:
        assert r.execute("EXISTS", "bedrock:market_data:ETHUSDT:1h") == 0, "the status hash goes with the gateway"
    before = len(open_times(gw, topic))
    gw.start()
    wait_until(lambda: len(open_times(gw, topic)) >= before + 5, 20, "live bars after the restart")
    times = open_times(gw, topic)
    assert len(times) == len(set(times))
    assert_each_bar_once_in_order(times)


def test_two_gateways_ingest_each_bar_once_and_the_survivor_takes_over(start_gateway):
    env = {"BEDROCK_MARKET_DATA_MARKETS": "sample:BTC/USDT:1h"}
    a = start_gateway(FAST, env=env)
    b = start_gateway(FAST, redis=a.redis_url, env=env)
    topic = "klines:BTCUSDT:1h"
    wait_until(lambda: len(open_times(a, topic)) >= 60, 20, "bars from one of the two gateways")
    with a.redis() as r:
        owner = r.execute("GET", "bedrock:lease:market_data:BTCUSDT:1h")
    holder, other = (a, b) if owner.endswith(f"-{a.proc.pid}") else (b, a)
    assert owner.endswith(f"-{holder.proc.pid}")
    assert holder.stop() == 0
    count = len(open_times(other, topic))
    wait_until(lambda: len(open_times(other, topic)) >= count + 5, 20, "the other gateway to take over")
    with other.redis() as r:
        assert r.execute("GET", "bedrock:lease:market_data:BTCUSDT:1h").endswith(f"-{other.proc.pid}")
    times = open_times(other, topic)
    assert len(times) == len(set(times)), "a bar appended twice"
    assert_each_bar_once_in_order(times)


def test_a_bare_serve_ingests_nothing(start_gateway):
    gw = start_gateway()
    status, _, ready = gw.get_json("/ready")
    assert status == 200 and "market_data" not in ready["checks"]
    with gw.redis() as r:
        assert r.execute("KEYS", "bedrock:stream:klines:*") == []


def test_gateways_on_one_redis_split_the_markets(start_gateway):
    markets = ",".join(f"sample:M{i}/USDT:1h" for i in range(4))
    env = {"BEDROCK_MARKET_DATA_MARKETS": markets}
    a = start_gateway(FAST, env=env)

    def owners() -> list[str]:
        with a.redis() as r:
            return [r.execute("GET", f"bedrock:lease:market_data:M{i}USDT:1h") or "" for i in range(4)]

    wait_until(lambda: all(o.endswith(f"-{a.proc.pid}") for o in owners()), 15, "the first gateway to take all four")
    b = start_gateway(FAST, redis=a.redis_url, env=env)
    wait_until(lambda: sorted(o.rsplit("-", 1)[-1] for o in owners()) == sorted([str(a.proc.pid)] * 2 + [str(b.proc.pid)] * 2),
               15, "two markets each", seen=owners)
    # Each stream still has each bar once, in order, across the handover.
    wait_until(lambda: all(len(open_times(a, f"klines:M{i}USDT:1h")) >= 60 for i in range(4)), 20, "bars on all four")
    for i in range(4):
        times = open_times(a, f"klines:M{i}USDT:1h")
        assert len(times) == len(set(times))
        assert_each_bar_once_in_order(times)
