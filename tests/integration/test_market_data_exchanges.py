"""Live ingest in `serve` from Binance and Bybit (SPEC §10), against the local fake exchanges of
`fakes/` (written from the official API documentation and checked against ccxt in
`test_exchange_fakes.py`): backfill over REST then follow the kline WebSocket, the forming bar never
appended, a socket dropped mid-bar and refused for a while (repaired over REST, no gap, no
duplicate), 429 and 418, duplicate / out-of-order / malformed bars, an unknown symbol, staleness,
the status hash, `/ready` and `/metrics`."""

from __future__ import annotations

import json
import time

import pytest

from fakes import FakeBinance, FakeBybit, ManualClock, WallClock
from helpers import stream_key, wait_until

MINUTE = 60_000
TOPIC = "klines:BTCUSDT:1m"
QUIET = {"engine": {"strategies": []}, "market_data": {"backfill_bars": 60, "lease_ms": 1000}}


def wire(exchange: str) -> str:
    """The fake's name of the 1m interval (Bybit spells it `1`)."""
    return "1m" if exchange == "binance" else "1"


def fake_for(exchange: str, **kw):
    return (FakeBinance if exchange == "binance" else FakeBybit)(**kw)


def env_for(exchange: str, fake, market: str = "BTC/USDT") -> dict[str, str]:
    name = exchange.upper()
    return {
        "BEDROCK_MARKET_DATA_MARKETS": f"{exchange}:{market}:1m",
        f"BEDROCK_EXCHANGES_{name}_REST_URL": fake.http_url,
        f"BEDROCK_EXCHANGES_{name}_WS_URL": fake.spot_ws_url if exchange == "bybit" else fake.ws_url,
    }


def stream(gw, topic: str = TOPIC) -> list[dict]:
    with gw.redis() as r:
        return [json.loads(fields["event"]) for _, fields in r.xrange(stream_key(topic))]


def open_ms(event: dict) -> int:
    from datetime import datetime
    return int(datetime.fromisoformat(event["open_time"].replace("Z", "+00:00")).timestamp() * 1000)


def alerts(gw, action: str) -> list[dict]:
    with gw.redis() as r:
        events = [json.loads(fields["event"]) for _, fields in r.xrange(stream_key("risk"))]
    return [e for e in events if e.get("action") == action]


def assert_consecutive(events: list[dict]) -> None:
    times = [open_ms(e) for e in events]
    assert times == sorted(set(times)), "a bar twice or out of order"
    holes = [(a, b) for a, b in zip(times, times[1:]) if b - a != MINUTE]
    assert not holes, f"holes in the stream: {holes[:3]}"


def assert_same_bar(event: dict, bar) -> None:
    for field in ("open", "high", "low", "close", "volume"):
        assert event[field] == pytest.approx(float(getattr(bar, field)), rel=1e-12), (field, event, bar)


def next_boundary(fake) -> int:
    return (fake.now_ms() // MINUTE + 1) * MINUTE


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
def test_backfills_then_follows_the_live_stream_bar_for_bar(start_gateway, exchange):
    with fake_for(exchange, clock=WallClock()) as fake:
        gw = start_gateway(QUIET, env=env_for(exchange, fake))
        wait_until(lambda: len(stream(gw)) >= 60, 20, "60 backfilled bars")
        wait_until(lambda: fake.subscribed("BTCUSDT", wire(exchange)), 20, "the live subscription")
        history = stream(gw)
        assert_consecutive(history)
        for event in history:
            assert_same_bar(event, fake.closed_bar("BTCUSDT", wire(exchange), open_ms(event)))
            assert event["symbol"] == "BTC/USDT" and event["market"] == "BTCUSDT"
        # The forming bar updates, then closes: appended once, with the closing values (had a
        # forming update been appended, the close would be dropped as a duplicate).
        wait_until(lambda: gw.get_json("/ready")[2]["checks"]["market_data"]["ingesting"] == 1, 10, "ingesting")
        fake.advance(MINUTE // 4)
        fake.advance(MINUTE // 4)
        forming = fake.now_ms() // MINUTE * MINUTE
        fake.advance_to(forming + MINUTE)
        wait_until(lambda: open_ms(stream(gw)[-1]) == forming, 10, "the closed bar")
        assert_same_bar(stream(gw)[-1], fake.closed_bar("BTCUSDT", wire(exchange), forming))
        assert_consecutive(stream(gw))
        with gw.redis() as r:
            flat = r.execute("HGETALL", "bedrock:market_data:BTCUSDT:1m")
        assert dict(zip(flat[0::2], flat[1::2]))["status"] == "live"
        gw.metrics_with('bedrock_exchange_requests_total{exchange="%s",status="ok"}' % exchange)


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
def test_a_socket_dropped_mid_bar_and_refused_is_repaired_without_a_gap(start_gateway, exchange):
    with fake_for(exchange, clock=WallClock()) as fake:
        gw = start_gateway(QUIET, env=env_for(exchange, fake))
        wait_until(lambda: fake.subscribed("BTCUSDT", wire(exchange)) and len(stream(gw)) >= 60, 20, "live")
        fake.advance(MINUTE // 3)  # mid-bar
        fake.refuse_connections(True)
        assert fake.drop_connections() >= 1
        # Three bars close while the gateway cannot connect; it tries again and again, backing off.
        first_missed = fake.now_ms() // MINUTE * MINUTE
        fake.advance_to(first_missed + 3 * MINUTE)
        wait_until(lambda: fake.ws_refused >= 2, 15, "two refused reconnects")
        fake.refuse_connections(False)
        wait_until(lambda: fake.subscribed("BTCUSDT", wire(exchange)), 20, "the reconnect")
        # The fake's clock jumped ahead of the gateway's, so the next close is what shows the
        # hole here (with true clocks the repair right after the reconnect finds it); either way
        # the missed bars come over REST before the live one.
        fake.advance_to(first_missed + 4 * MINUTE)
        wait_until(lambda: open_ms(stream(gw)[-1]) == first_missed + 3 * MINUTE, 30, "the repair over REST")
        events = stream(gw)
        assert_consecutive(events)
        for event in events[-4:]:
            assert_same_bar(event, fake.closed_bar("BTCUSDT", wire(exchange), open_ms(event)))
        assert alerts(gw, "MARKET_DATA_GAP") == []
        gw.metrics_with('bedrock_market_data_reconnects_total{exchange="%s"}' % exchange)


def test_429_waits_out_retry_after_and_418_raises_exchange_banned(start_gateway):
    with FakeBinance(clock=WallClock()) as fake:
        fake.force_429(retry_after_s=2)
        started = time.monotonic()
        gw = start_gateway(QUIET, env=env_for("binance", fake))
        wait_until(lambda: len(fake.requests) >= 1, 10, "the first request")
        wait_until(lambda: len(stream(gw)) >= 60, 20, "the backfill after the wait")
        assert time.monotonic() - started >= 2, "sent again before Retry-After ended"
        gw.metrics_with('bedrock_exchange_requests_total{exchange="binance",status="rate_limited"} 1')
        # A ban: the next REST call (the repair of a bar missed while the socket was down) gets 418.
        wait_until(lambda: fake.subscribed("BTCUSDT", "1m"), 20, "the live subscription")
        fake.refuse_connections(True)
        fake.drop_connections()
        missed = fake.now_ms() // MINUTE * MINUTE
        fake.advance_to(missed + MINUTE)
        wait_until(lambda: fake.ws_refused >= 1, 15, "a refused reconnect")
        fake.clock.set(missed + 2 * MINUTE)  # the fake's time moves on, nothing pushed yet
        # The ban starts before the socket is back: the repair of the missed bar meets it whether
        # the reconnect's own pass makes it (the gateway's clock already past the bar's close) or
        # the hole seen at the next close does. 20 s on the fake's clock: a loaded machine's
        # reconnect and repair still fall inside it.
        fake.force_418(retry_after_s=20)
        fake.refuse_connections(False)
        wait_until(lambda: fake.subscribed("BTCUSDT", "1m"), 20, "the reconnect")
        fake.pump()  # the next close
        wait_until(lambda: alerts(gw, "EXCHANGE_BANNED"), 20, "EXCHANGE_BANNED")
        banned = alerts(gw, "EXCHANGE_BANNED")[0]
        assert banned["exchange"] == "binance" and 1 <= banned["retry_after_s"] <= 20
        gw.metrics_with('bedrock_exchange_requests_total{exchange="binance",status="banned"}')
        # After the ban, the missed bar arrives over REST.
        wait_until(lambda: open_ms(stream(gw)[-1]) == missed + MINUTE, 40, "the repair after the ban")
        assert_consecutive(stream(gw))


def test_duplicate_out_of_order_and_malformed_bars_are_dropped_and_counted(start_gateway):
    with FakeBinance(clock=WallClock()) as fake:
        gw = start_gateway(QUIET, env=env_for("binance", fake))
        wait_until(lambda: fake.subscribed("BTCUSDT", "1m") and len(stream(gw)) >= 60, 20, "live")
        count = len(stream(gw))
        fake.duplicate_next_closes(1)
        fake.advance_to(next_boundary(fake))
        wait_until(lambda: len(stream(gw)) == count + 1, 10, "the bar")
        fake.push_bar("BTCUSDT", "1m", open_ms(stream(gw)[-5]))  # an old bar again
        fake.send_raw('{"e":"kline","k":')  # truncated JSON
        fake.advance_to(next_boundary(fake))
        wait_until(lambda: len(stream(gw)) == count + 2, 10, "the next bar")
        assert_consecutive(stream(gw))
        gw.metrics_with('bedrock_market_data_rejected_total{reason="duplicate"}')
        gw.metrics_with('bedrock_market_data_rejected_total{reason="out_of_order"}')
        gw.metrics_with('bedrock_market_data_rejected_total{reason="malformed"}')


def test_a_bar_the_exchange_serves_broken_everywhere_is_a_named_gap(start_gateway):
    with FakeBinance(clock=WallClock()) as fake:
        gw = start_gateway(QUIET, env=env_for("binance", fake))
        wait_until(lambda: fake.subscribed("BTCUSDT", "1m") and len(stream(gw)) >= 60, 20, "live")
        broken = next_boundary(fake)
        fake.corrupt_bar("BTCUSDT", "1m", broken, high="0.5")  # high below the body, on REST and WS
        fake.advance_to(broken + 2 * MINUTE)
        wait_until(lambda: open_ms(stream(gw)[-1]) == broken + MINUTE, 15, "the bar after the broken one")
        assert broken not in [open_ms(e) for e in stream(gw)]
        gap = wait_until(lambda: alerts(gw, "MARKET_DATA_GAP"), 10, "MARKET_DATA_GAP")[0]
        assert gap["market"] == "BTCUSDT" and gap["missed"] == 1
        assert open_ms({"open_time": gap["from"]}) == broken
        gw.metrics_with('bedrock_market_data_rejected_total{reason="high_below_body"}')


def test_an_unknown_symbol_is_logged_and_the_gateway_keeps_serving(start_gateway):
    with FakeBinance(clock=WallClock()) as fake:
        gw = start_gateway(QUIET, env=env_for("binance", fake, market="NOPE/USDT"))
        wait_until(lambda: "does not list the symbol NOPEUSDT" in gw.log_text(), 15, "the log line")
        assert gw.get_json("/health")[0] == 200
        assert stream(gw, "klines:NOPEUSDT:1m") == []


def test_no_closed_bar_past_due_is_stale_once_until_bars_flow_again(start_gateway):
    behind = int(time.time() * 1000) // MINUTE * MINUTE - 10 * MINUTE
    with FakeBinance(clock=ManualClock(behind + 1_000)) as fake:
        gw = start_gateway(QUIET, env=env_for("binance", fake))
        wait_until(lambda: alerts(gw, "STALE_MARKET_DATA"), 20, "STALE_MARKET_DATA")
        status, _, ready = gw.get_json("/ready")
        assert status == 200 and ready["checks"]["market_data"]["stale"] == [TOPIC]
        wait_until(lambda: fake.subscribed("BTCUSDT", "1m"), 20, "the live subscription")
        fake.advance_to(int(time.time() * 1000) // MINUTE * MINUTE)
        wait_until(lambda: gw.get_json("/ready")[2]["checks"]["market_data"]["stale"] == [], 15, "fresh again")
        assert len(alerts(gw, "STALE_MARKET_DATA")) == 1
        assert_consecutive(stream(gw))


def test_a_gateway_killed_mid_backfill_resumes_without_a_duplicate_or_a_hole(start_gateway):
    config = {"engine": {"strategies": []}, "market_data": {"backfill_bars": 20_000, "lease_ms": 1000}}
    with FakeBinance(clock=WallClock()) as fake:
        env = env_for("binance", fake)
        gw = start_gateway(config, env=env)
        with gw.redis() as r:
            key = stream_key(TOPIC)
            wait_until(lambda: r.execute("XLEN", key) >= 1000, 20, "the first pages", interval=0.01)
            gw.signal(9)  # SIGKILL mid-backfill: no lease given up, no status hash removed
            gw.proc.wait(10)
            at_kill = r.execute("XLEN", key)
        gw.proc = None
        gw.logf.close()
        assert at_kill < 20_000, "the backfill was over before the kill: the test proves nothing"
        gw.start()  # the dead gateway's lease expires (lease_ms) and the new one resumes
        wait_until(lambda: len(stream(gw)) >= 20_000, 60, "the rest of the backfill")
        events = stream(gw)
        assert_consecutive(events)
        first = open_ms(events[0])
        assert all(open_ms(e) == first + i * MINUTE for i, e in enumerate(events))
