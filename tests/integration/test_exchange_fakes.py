"""The fake exchanges (tests/integration/fakes) checked against an independent reading of the
exchanges' formats: ccxt's own Binance and Bybit clients parse the fakes' REST answers (and, via
ccxt.pro, their kline streams), and a plain `websockets` client compares the stream messages with
the documented examples field for field (names, order and JSON types)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

# A venv made before ccxt joined requirements.txt skips this file rather than failing collection
# of the whole suite; `make test` installs the pinned ccxt, so there it always runs.
ccxt = pytest.importorskip("ccxt", reason="ccxt (tests/integration/requirements.txt) not installed")
pytest.importorskip("ccxt.pro")
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from fakes import FakeBinance, FakeBybit
from fakes.bars import HOUR, MINUTE

NOW = 1_767_225_600_000 + 30 * MINUTE  # 2026-01-01T00:30:00Z, half-way through an hour bar

# The documented examples' key order and JSON types (Binance kline stream, Bybit v5 kline topic).
BINANCE_EVENT_KEYS = ["e", "E", "s", "k"]
BINANCE_K_TYPES = {"t": int, "T": int, "s": str, "i": str, "f": int, "L": int, "o": str, "c": str, "h": str,
                   "l": str, "v": str, "n": int, "x": bool, "q": str, "V": str, "Q": str, "B": str}
BINANCE_ROW_TYPES = [int, str, str, str, str, str, int, str, int, str, str, str]
BYBIT_PUSH_KEYS = ["topic", "data", "ts", "type"]
BYBIT_DATA_TYPES = {"start": int, "end": int, "interval": str, "open": str, "close": str, "high": str,
                    "low": str, "volume": str, "turnover": str, "confirm": bool, "timestamp": int}


def expected_ohlcv(fake, symbol: str, interval: str, start: int, count: int) -> list[list]:
    """The fake's own bars, straight from the generator, as ccxt's [t, o, h, l, c, v] floats."""
    bars = fake.bars(symbol, interval, start, start + 10 ** 13)[:count]
    return [[b.open_time, float(b.open), float(b.high), float(b.low), float(b.close), float(b.volume)] for b in bars]


def ccxt_binance(fake: FakeBinance) -> ccxt.binance:
    ex = ccxt.binance({"options": {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False}})
    ex.urls["api"]["public"] = fake.http_url + "/api/v3"
    return ex


def ccxt_bybit(fake: FakeBybit) -> ccxt.bybit:
    ex = ccxt.bybit({"options": {"fetchMarkets": {"types": ["spot"]}}})
    ex.urls["api"] = {k: fake.http_url for k in ("spot", "futures", "v2", "public", "private")}
    return ex


def http_get(url: str) -> tuple[int, dict[str, str], object]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), json.loads(e.read())


# -- REST, read by ccxt ------------------------------------------------------------------------

def test_ccxt_binance_reads_the_fake_klines_pages_and_its_market_list():
    with FakeBinance(seed=7, now_ms=NOW) as fake:
        ex = ccxt_binance(fake)
        since = NOW - 1500 * HOUR
        page1 = ex.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=1000)
        assert page1 == expected_ohlcv(fake, "BTCUSDT", "1h", since, 1000)
        page2 = ex.fetch_ohlcv("BTC/USDT", "1h", since=page1[-1][0] + HOUR, limit=1000)
        # the second page ends with the forming bar of now, as the exchange's does
        assert page2 == expected_ohlcv(fake, "BTCUSDT", "1h", page1[-1][0] + HOUR, 1000)
        assert len(page2) == 500 and page2[-1][0] == NOW - 30 * MINUTE
        eth = ex.fetch_ohlcv("ETH/USDT", "5m", since=NOW - 60 * MINUTE, limit=5)
        assert eth == expected_ohlcv(fake, "ETHUSDT", "5m", NOW - 60 * MINUTE, 5)
        assert set(ex.markets) == {"BTC/USDT", "ETH/USDT"}
        assert [p for p, _ in fake.requests] == ["/api/v3/exchangeInfo"] + ["/api/v3/klines"] * 3
        _, _, raw = http_get(fake.http_url + "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=2")
        assert [[type(v) for v in row] for row in raw] == [BINANCE_ROW_TYPES] * 2
        assert raw[0][11] == "0" and raw[0][6] == raw[0][0] + HOUR - 1 and raw[1][0] == raw[0][0] + HOUR


def test_ccxt_bybit_reads_the_fake_klines_newest_first_and_its_market_list():
    with FakeBybit(seed=7, now_ms=NOW) as fake:
        ex = ccxt_bybit(fake)
        since = NOW - 1500 * HOUR
        page1 = ex.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=1000)
        assert page1 == expected_ohlcv(fake, "BTCUSDT", "60", since, 1000)
        page2 = ex.fetch_ohlcv("BTC/USDT", "1h", since=page1[-1][0] + HOUR, limit=1000)
        assert page2 == expected_ohlcv(fake, "BTCUSDT", "60", page1[-1][0] + HOUR, 1000)
        assert page2[-1][0] == NOW - 30 * MINUTE
        assert set(ex.markets) == {"BTC/USDT", "ETH/USDT"}
        assert [p for p, _ in fake.requests] == ["/v5/market/instruments-info"] + ["/v5/market/kline"] * 2
        _, _, raw = http_get(fake.http_url + "/v5/market/kline?category=spot&symbol=BTCUSDT&interval=60&limit=3")
        starts = [int(row[0]) for row in raw["result"]["list"]]
        assert starts == sorted(starts, reverse=True) and all(isinstance(v, str) for v in raw["result"]["list"][0])


def test_error_answers_map_to_ccxt_exceptions():
    with FakeBinance(now_ms=NOW) as b, FakeBybit(now_ms=NOW) as y:
        bex, yex = ccxt_binance(b), ccxt_bybit(y)
        with pytest.raises(ccxt.BadSymbol):
            bex.publicGetKlines({"symbol": "NOPEUSDT", "interval": "1h"})
        with pytest.raises(ccxt.BadRequest):
            bex.publicGetKlines({"symbol": "BTCUSDT", "interval": "7h"})
        status, _, body = http_get(b.http_url + "/api/v3/klines?symbol=NOPEUSDT&interval=1h")
        assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})
        status, _, body = http_get(b.http_url + "/api/v3/klines?symbol=BTCUSDT&interval=7h")
        assert (status, body) == (400, {"code": -1120, "msg": "Invalid interval."})
        with pytest.raises(ccxt.BadRequest):
            yex.publicGetV5MarketKline({"category": "spot", "symbol": "NOPEUSDT", "interval": "60"})
        status, _, body = http_get(y.http_url + "/v5/market/kline?category=spot&symbol=NOPEUSDT&interval=60")
        assert status == 200 and body["retCode"] == 10001 and body["result"] == {}
        status, _, body = http_get(y.http_url + "/v5/market/kline?category=spot&symbol=BTCUSDT&interval=7")
        assert body["retCode"] == 10001


def test_binance_weight_header_429_then_418_ban_with_retry_after():
    with FakeBinance(now_ms=NOW, weight_limit=10, ban_s=120) as fake:
        url = fake.http_url + "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000"
        for i in range(5):
            status, headers, _ = http_get(url)
            assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == str(2 * (i + 1))
        status, headers, body = http_get(url)
        assert status == 429 and body["code"] == -1003
        assert headers["Retry-After"] == "60"  # the rest of the minute window (now is hh:30:00.000)
        status, headers, body = http_get(url)  # still sending during the back-off: banned
        assert status == 418 and headers["Retry-After"] == "120" and body["code"] == -1003
        fake.advance(119_000)
        status, headers, _ = http_get(url)
        assert status == 418 and headers["Retry-After"] == "1"
        fake.advance(1_000)
        assert http_get(url)[0] == 200
        fake.force_429(7)
        with pytest.raises(ccxt.DDoSProtection, match="binance 429"):
            ccxt_binance(fake).publicGetKlines({"symbol": "BTCUSDT", "interval": "1h"})
        fake.advance(7_000)
        assert http_get(url)[0] == 200
        fake.force_418(60)
        with pytest.raises(ccxt.DDoSProtection, match="binance 418"):
            ccxt_binance(fake).publicGetKlines({"symbol": "BTCUSDT", "interval": "1h"})


def test_binance_internal_failures_are_5xx_with_its_error_body():
    with FakeBinance(now_ms=NOW) as fake:
        url = fake.http_url + "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5"
        fake.fail_rest(503, times=2)
        # ccxt's Binance client reads -1001 as a failed operation to retry (not a refusal).
        with pytest.raises(ccxt.OperationFailed, match="-1001"):
            ccxt_binance(fake).publicGetKlines({"symbol": "BTCUSDT", "interval": "1h"})
        status, _, body = http_get(url)
        assert status == 503 and body["code"] == -1001 and body["msg"].startswith("Internal error"), body
        assert http_get(url)[0] == 200, "two failures, then served again"
        fake.fail_rest(500, times=100)
        assert http_get(url)[0] == 500
        fake.fail_rest(times=0)
        assert http_get(url)[0] == 200
        with pytest.raises(ValueError):
            fake.fail_rest(404)


def test_bybit_rate_limit_10006_headers_and_ip_ban():
    with FakeBybit(now_ms=NOW, limit_per_s=2) as fake:
        url = fake.http_url + "/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1&limit=5"
        status, headers, body = http_get(url)
        assert body["retCode"] == 0 and headers["X-Bapi-Limit"] == "2" and headers["X-Bapi-Limit-Status"] == "1"
        assert headers["X-Bapi-Limit-Reset-Timestamp"] == str(NOW)
        http_get(url)
        status, headers, body = http_get(url)
        assert (status, body["retCode"], body["retMsg"]) == (200, 10006, "Too many visits!")
        assert headers["X-Bapi-Limit-Status"] == "0" and headers["X-Bapi-Limit-Reset-Timestamp"] == str(NOW + 1000)
        with pytest.raises(ccxt.RateLimitExceeded):
            ccxt_bybit(fake).publicGetV5MarketKline({"category": "spot", "symbol": "BTCUSDT", "interval": "1"})
        fake.advance(1_000)
        assert http_get(url)[2]["retCode"] == 0
        fake.force_rate_limit(5)
        assert http_get(url)[2]["retCode"] == 10006
        fake.advance(5_000)
        assert http_get(url)[2]["retCode"] == 0
        fake.force_ip_ban(10)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url, timeout=5)
        err.value.close()
        assert err.value.code == 403


def test_same_seed_same_bars_other_seed_other_bars():
    with FakeBinance(seed=3, now_ms=NOW) as a, FakeBinance(seed=3, now_ms=NOW) as b, \
            FakeBinance(seed=4, now_ms=NOW) as c:
        path = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000"
        assert http_get(a.http_url + path)[2] == http_get(b.http_url + path)[2] != http_get(c.http_url + path)[2]


# -- WebSocket, read with a plain client -------------------------------------------------------

@pytest.fixture
def loop():
    lp = asyncio.new_event_loop()
    asyncio.set_event_loop(lp)
    yield lp
    pending = asyncio.all_tasks(lp)  # e.g. keepalive tasks of sockets the fake cut
    for task in pending:
        task.cancel()
    lp.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    lp.close()


def run(loop, coro):
    return loop.run_until_complete(coro)


def check_binance_event(msg: dict) -> dict:
    assert list(msg) == BINANCE_EVENT_KEYS and msg["e"] == "kline"
    assert isinstance(msg["E"], int) and isinstance(msg["s"], str)
    k = msg["k"]
    assert list(k) == list(BINANCE_K_TYPES)
    for key, typ in BINANCE_K_TYPES.items():
        assert type(k[key]) is typ, key
    return k


def test_binance_stream_forming_updates_then_close_raw_and_combined(loop):
    with FakeBinance(seed=5, now_ms=NOW) as fake:
        async def scenario():
            raw = await connect(fake.ws_url + "/ws/btcusdt@kline_1h")
            combined = await connect(fake.ws_url + "/stream?streams=btcusdt@kline_1h/ethusdt@kline_1h")
            fake.step_bar("BTCUSDT", "1h", updates=3)
            got = [json.loads(await asyncio.wait_for(raw.recv(), 5)) for _ in range(4)]
            ks = [check_binance_event(m) for m in got]
            assert [k["x"] for k in ks] == [False, False, False, True]
            assert {k["t"] for k in ks} == {NOW - 30 * MINUTE} and ks[-1]["T"] == NOW + 30 * MINUTE - 1
            assert [m["E"] for m in got] == sorted(m["E"] for m in got)
            closed = fake.closed_bar("BTCUSDT", "1h", NOW - 30 * MINUTE)
            assert ks[-1]["c"] == f"{closed.close:.8f}" and ks[-1]["n"] == closed.trades
            vols = [float(k["v"]) for k in ks]
            assert vols == sorted(vols) and len(set(vols)) == 4  # the forming bar grows, then closes
            wrapped = json.loads(await asyncio.wait_for(combined.recv(), 5))
            assert list(wrapped) == ["stream", "data"] and wrapped["stream"] == "btcusdt@kline_1h"
            check_binance_event(wrapped["data"])
            await raw.close()
            await combined.close()
        run(loop, scenario())


def test_binance_subscribe_method_ping_frames_and_ccxt_pro(loop):
    with FakeBinance(seed=5, now_ms=NOW, ping_interval_s=0.2, ping_timeout_s=1) as fake:
        async def scenario():
            in_thread = asyncio.get_running_loop().run_in_executor
            ws = await connect(fake.ws_url + "/ws")
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1}))
            assert json.loads(await ws.recv()) == {"result": None, "id": 1}
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
            assert json.loads(await ws.recv()) == {"result": ["btcusdt@kline_1m"], "id": 3}
            await ws.send("not json")
            assert json.loads(await ws.recv())["code"] == 3
            await asyncio.sleep(1.5)  # server pings every 0.2 s, a missing pong would cut at 1 s
            assert fake.subscribed("BTCUSDT", "1m") == 1
            assert await in_thread(None, fake.ping_all) == 1
            await in_thread(None, fake.advance, MINUTE)
            k = check_binance_event(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            assert k["x"] is True and k["t"] == NOW
            await ws.close()
        run(loop, scenario())

        async def pro():
            ex = ccxt.pro.binance({"options": {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False}})
            ex.urls["api"]["public"] = fake.http_url + "/api/v3"
            ex.urls["api"]["ws"]["spot"] = fake.ws_url + "/ws"
            try:
                return await watch_one_close(ex, fake, "1m")
            finally:
                await ex.close()
        candles = run(loop, pro())
        bar = fake.closed_bar("BTCUSDT", "1m", candles[-1][0])
        assert candles[-1] == [bar.open_time, float(bar.open), float(bar.high), float(bar.low),
                               float(bar.close), float(bar.volume)]


async def watch_one_close(ex, fake, interval: str) -> list[list]:
    """ccxt.pro's watch_ohlcv on the fake: subscribe, then close 1-minute bars (at most three:
    ccxt may still be settling its subscription when the first one is pushed) until it yields."""
    watch = asyncio.ensure_future(ex.watch_ohlcv("BTC/USDT", "1m"))
    for _ in range(200):
        if fake.subscribed("BTCUSDT", interval):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("ccxt.pro never subscribed")
    for _ in range(3):
        await asyncio.get_running_loop().run_in_executor(None, fake.advance, MINUTE)
        done, _ = await asyncio.wait({watch}, timeout=2)
        if done:
            return watch.result()
    watch.cancel()
    raise AssertionError("ccxt.pro yielded no candle")


def test_bybit_subscribe_ack_pong_updates_and_confirm(loop):
    with FakeBybit(seed=5, now_ms=NOW) as fake:
        async def scenario():
            ws = await connect(fake.spot_ws_url)
            await ws.send(json.dumps({"op": "subscribe", "args": ["kline.1.BTCUSDT"], "req_id": "10001"}))
            ack = json.loads(await ws.recv())
            assert list(ack) == ["success", "ret_msg", "conn_id", "req_id", "op"]
            assert (ack["success"], ack["ret_msg"], ack["req_id"], ack["op"]) == (True, "subscribe", "10001", "subscribe")
            await ws.send(json.dumps({"op": "ping"}))
            pong = json.loads(await ws.recv())
            assert pong == {"success": True, "ret_msg": "pong", "conn_id": ack["conn_id"], "op": "ping"}
            await ws.send(json.dumps({"op": "subscribe", "args": ["kline.7.BTCUSDT"], "req_id": "2"}))
            assert json.loads(await ws.recv())["success"] is False
            return ws
        ws = run(loop, scenario())
        fake.step_bar("BTCUSDT", "1", updates=2)
        msgs = [json.loads(run(loop, asyncio.wait_for(ws.recv(), 5))) for _ in range(3)]
        for m in msgs:
            assert list(m) == BYBIT_PUSH_KEYS and m["topic"] == "kline.1.BTCUSDT" and m["type"] == "snapshot"
            (d,) = m["data"]
            assert list(d) == list(BYBIT_DATA_TYPES)
            for key, typ in BYBIT_DATA_TYPES.items():
                assert type(d[key]) is typ, key
        assert [m["data"][0]["confirm"] for m in msgs] == [False, False, True]
        assert msgs[-1]["data"][0]["start"] == NOW and msgs[-1]["data"][0]["end"] == NOW + MINUTE - 1
        run(loop, ws.close())

        async def pro():
            ex = ccxt.pro.bybit({"options": {"fetchMarkets": {"types": ["spot"]}}})
            ex.urls["api"] = {k: fake.http_url for k in ("spot", "futures", "v2", "public", "private")}
            ex.urls["api"]["ws"] = {"public": {"spot": fake.spot_ws_url}}
            try:
                return await watch_one_close(ex, fake, "1")
            finally:
                await ex.close()
        candles = run(loop, pro())
        bar = fake.closed_bar("BTCUSDT", "1", candles[-1][0])
        assert candles[-1] == [bar.open_time, float(bar.open), float(bar.high), float(bar.low),
                               float(bar.close), float(bar.volume)]


def test_drop_mid_bar_refuses_then_accepts_on_the_fake_clock(loop):
    with FakeBinance(now_ms=NOW) as fake:
        ws = run(loop, connect(fake.ws_url + "/ws/btcusdt@kline_1m"))
        fake.advance(10_000)
        assert check_binance_event(json.loads(run(loop, ws.recv())))["x"] is False
        assert fake.drop_connections(refuse_for_ms=30_000) == 1
        with pytest.raises(ConnectionClosed):
            run(loop, asyncio.wait_for(ws.recv(), 5))
        with pytest.raises(InvalidStatus) as refused:
            run(loop, connect(fake.ws_url + "/ws/btcusdt@kline_1m"))
        assert refused.value.response.status_code == 503
        fake.advance(30_000)
        ws = run(loop, connect(fake.ws_url + "/ws/btcusdt@kline_1m"))
        fake.advance(20_000)  # the bar that was forming when the socket dropped closes
        k = check_binance_event(json.loads(run(loop, ws.recv())))
        assert (k["t"], k["x"]) == (NOW, True)
        run(loop, ws.close())
        assert fake.ws_connects == 2


def test_injected_duplicate_out_of_order_malformed_and_raw(loop):
    with FakeBybit(now_ms=NOW) as fake:
        ws = run(loop, connect(fake.spot_ws_url))
        run(loop, ws.send(json.dumps({"op": "subscribe", "args": ["kline.1.BTCUSDT"]})))
        assert json.loads(run(loop, ws.recv()))["success"] is True
        fake.duplicate_next_closes(1)
        fake.corrupt_bar("BTCUSDT", "1", NOW, high="1.5")
        fake.advance(MINUTE)
        first, second = (json.loads(run(loop, ws.recv()))["data"][0] for _ in range(2))
        assert first == second and first["confirm"] is True and first["high"] == "1.5"
        old = fake.push_bar("BTCUSDT", "1", NOW - 5 * MINUTE)
        assert json.loads(run(loop, ws.recv())) == old and old["data"][0]["start"] == NOW - 5 * MINUTE
        fake.send_raw('{"topic":"kline.1.BTCUSDT","data":[{"start":')
        assert run(loop, ws.recv()) == '{"topic":"kline.1.BTCUSDT","data":[{"start":'
        run(loop, ws.close())
        url = fake.http_url + f"/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1&start={NOW - 2 * MINUTE}&limit=3"
        rows = http_get(url)[2]["result"]["list"]
        assert [int(r[0]) for r in rows] == [NOW, NOW - MINUTE, NOW - 2 * MINUTE] and rows[0][2] == "1.5"
        fake.rest_anomaly("reverse")
        assert [int(r[0]) for r in http_get(url)[2]["result"]["list"]] == [NOW - 2 * MINUTE, NOW - MINUTE, NOW]
        fake.rest_anomaly("duplicate")
        assert [int(r[0]) for r in http_get(url)[2]["result"]["list"]] == [NOW, NOW - MINUTE, NOW - MINUTE, NOW - 2 * MINUTE]


def test_wall_clock_pump_closes_bars_in_real_time(loop):
    from fakes import WallClock
    fake = FakeBinance(clock=WallClock())
    with fake:
        fake.start_pump(0.02)

        async def scenario():
            ws = await connect(fake.ws_url + "/ws/btcusdt@kline_1s")
            while True:  # forming updates, then the close of a 1-second bar within ~1 s
                k = check_binance_event(json.loads(await asyncio.wait_for(ws.recv(), 3)))
                if k["x"]:
                    break
            assert k["T"] == k["t"] + 999 and k["T"] < fake.now_ms()
            await ws.close()
        run(loop, scenario())


def test_standalone_process_with_http_control_routes():
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.Popen([sys.executable, "-m", "fakes", "binance", "--now-ms", str(NOW)],
                            cwd=Path(__file__).parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["exchange"] == "binance" and info["ws_url"].startswith("ws://127.0.0.1:")
        control = info["control"]
        assert http_get(control + "now_ms")[2] == {"result": NOW}
        status, _, body = http_get(control + "advance?ms=60000")
        assert status == 200 and body["result"] == []  # nobody subscribed: nothing pushed
        assert http_get(control + "now_ms")[2] == {"result": NOW + MINUTE}
        http_get(control + f"corrupt_bar?symbol=BTCUSDT&interval=1m&open_time={NOW}&high=1.5")
        rows = http_get(info["http_url"] + f"/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={NOW}&limit=1")[2]
        assert rows[0][2] == "1.5"
        assert http_get(control + "force_429?retry_after_s=9")[0] == 200
        status, headers, _ = http_get(info["http_url"] + "/api/v3/ping")
        assert status == 429 and headers["Retry-After"] == "9"
        assert http_get(control + "no_such_thing")[0] == 404
        assert http_get(control + "advance?ms=soon")[0] == 400
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0


def test_standalone_process_stops_on_sigterm_and_stdin_at_once():
    """What the Swift tests do to stop a fake: close its stdin and send SIGTERM straight after. The
    signal often lands while the main thread waits on the stop event; its handler used to set that
    event there and deadlock on the event's own lock. Every one of many stops must end promptly."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    for i in range(12):
        proc = subprocess.Popen([sys.executable, "-m", "fakes", "binance", "--now-ms", str(NOW)],
                                cwd=Path(__file__).parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert json.loads(proc.stdout.readline())["exchange"] == "binance"
        if i % 2:
            proc.stdin.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, f"stop {i}"
        proc.stdout.close()
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
