"""Market feeds on the dashboard and the lists behind them: `GET /v1/markets` with each feed's
exchange, symbol, status, last bar and length; `GET /v1/datasets`; the market view's status pills
(green "live" only while the feed is fresh), the market pickers (symbol shown, canonical id sent)
and the backtest form's dataset picker. Headless Chromium on the real gateway and Redis.

The live ingest's status hash `<prefix>market_data:{MARKET}:{INTERVAL}` is written here the way
the ingest writes it (exchange, symbol, status, updated_at, gateway), with bars on the klines
streams: a fresh live feed, a feed the ingest still calls live whose last bar is 3 hours old, one
still backfilling its first page, and bars replayed with no ingest at all.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone

from browser import PHONE
from test_dashboard import ENGINE_OFF, api, select_option
from test_engine import sample

MINUTE_MS = 60_000


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_bars(r, market: str, interval_ms: int, interval: str, last_open_ms: int, count: int = 3) -> None:
    """`count` kline.closed events, the newest opening at `last_open_ms`, each appended (its stream
    entry id) when its bar closed, as a live ingest appends them."""
    for i in range(count - 1, -1, -1):
        t = last_open_ms - i * interval_ms
        r.execute("XADD", f"bedrock:stream:klines:{market}:{interval}", f"{t + interval_ms}-0", "event", json.dumps({
            "event_type": "kline.closed", "schema_version": "2.0", "timestamp": rfc3339(t + interval_ms),
            "market": market, "interval": interval, "open_time": rfc3339(t),
            "open": 100, "high": 101, "low": 99, "close": 100.5, "volume": 1}))


def ingest_status(r, market: str, interval: str, exchange: str, symbol: str, status: str) -> None:
    """The status hash as the live ingest keeps it (no expiry here: the test plays the ingest)."""
    r.execute("HSET", f"bedrock:market_data:{market}:{interval}", "exchange", exchange, "symbol", symbol,
              "status", status, "updated_at", str(int(time.time() * 1000)), "gateway", "test-ingest")


def seed_feeds(gw) -> None:
    now = int(time.time() * 1000)
    minute_start = now - now % MINUTE_MS
    with gw.redis() as r:
        # Fresh: the newest 1m bar closed 2 s ago (off the minute grid, so the age reads in seconds
        # for the next minute whenever the test runs).
        add_bars(r, "BTCUSDT", MINUTE_MS, "1m", now - MINUTE_MS - 2000)
        ingest_status(r, "BTCUSDT", "1m", "binance", "BTC/USDT", "live")
        # The ingest says live, but the newest bar is 3 hours old: the page must not show it green.
        add_bars(r, "ETHUSDT", MINUTE_MS, "1m", minute_start - (3 * 60 + 1) * MINUTE_MS)
        ingest_status(r, "ETHUSDT", "1m", "bybit", "ETH/USDT", "live")
        # Backfilling its first page: a hash, no stream yet.
        ingest_status(r, "SOLUSDT", "1h", "binance", "SOL/USDT", "backfilling")
        # Replayed bars, no ingest.
        add_bars(r, "XRPUSDT", 60 * MINUTE_MS, "1h", minute_start - 2 * 60 * MINUTE_MS)


def test_markets_list_reports_feeds(start_gateway):
    gw = start_gateway(ENGINE_OFF)
    seed_feeds(gw)
    answer = api(gw, "/v1/markets")
    by = {m["market"]: m for m in answer["data"]}
    assert sorted(by) == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"], by.keys()
    btc = by["BTCUSDT"]
    assert (btc["exchange"], btc["symbol"], btc["status"]) == ("binance", "BTC/USDT", "live")
    iv = btc["intervals"][0]
    assert (iv["interval"], iv["status"], iv["bars"], iv["exchange"], iv["symbol"]) == ("1m", "live", 3, "binance", "BTC/USDT")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", iv["last_bar_time"]), iv["last_bar_time"]
    assert iv["last_bar"]["open_time"] == iv["last_bar_time"]
    sol = by["SOLUSDT"]["intervals"][0]
    assert (sol["status"], sol["bars"], sol["last_bar_time"], sol["last_bar"]) == ("backfilling", 0, None, None)
    xrp = by["XRPUSDT"]
    assert (xrp["status"], xrp["exchange"], xrp["symbol"]) == ("replay", None, None)
    assert xrp["intervals"][0]["bars"] == 3
    # The socket method answers the same.
    ws, _ = gw.session("VIEWER", "vic")
    ws.send({"type": "request", "id": 7, "method": "markets.list", "params": {}})
    frame = ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == 7, skip=lambda f: True)
    assert frame["type"] == "response" and frame["result"]["data"] == answer["data"], frame
    ws.send({"type": "request", "id": 8, "method": "datasets.list", "params": {}})
    frame = ws.expect(lambda f: f.get("type") in ("response", "error") and f.get("id") == 8, skip=lambda f: True)
    assert frame["type"] == "response" and frame["result"] == {"total": 0, "data": []}, frame
    ws.close()


def test_feed_pills_pickers_and_dataset_picker(start_gateway, browser, tmp_path):
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    (datasets / "BTCUSDT-1h.csv").write_bytes(sample(tmp_path, 300, seed=3).read_bytes())
    (datasets / "broken.csv").write_text("time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,-1,2,0.5,1.5\n")
    gw = start_gateway({**ENGINE_OFF, "jobs": {"data_dir": str(datasets)}})
    seed_feeds(gw)

    listed = {d["name"]: d for d in api(gw, "/v1/datasets")["data"]}
    assert sorted(listed) == ["BTCUSDT-1h.csv", "broken.csv"], listed
    good = listed["BTCUSDT-1h.csv"]
    assert (good["rows"], good["market"], good["interval"]) == (300, "BTCUSDT", "1h"), good
    assert good["size"] == (datasets / "BTCUSDT-1h.csv").stat().st_size
    assert good["start"] < good["end"] and "error" not in good
    assert listed["broken.csv"]["error"].startswith("dataset broken.csv: line 3"), listed["broken.csv"]

    browser.open(gw)
    browser.sign_in("TRADER")
    # The header pill is the socket's, and says so.
    browser.wait_conn_state("connected")
    browser.wait_until(lambda _: browser.text("conn-state") == "connected", "conn-state text 'connected'")

    browser.go("market")
    browser.wait_until(lambda _: len(browser.all("feed-row")) == 4, "four feed rows")

    def pill(market: str):
        """(state, pill text, row text) of the market's feed row, read at once (rows re-render)."""
        found = browser.driver.execute_script(
            "const row = [...document.querySelectorAll('[data-testid=feed-row]')]"
            ".find(r => r.dataset.market === arguments[0]);"
            "const p = row && row.querySelector('[data-testid=feed-pill]');"
            "return p ? [p.dataset.state, p.textContent.trim(), row.textContent] : null;", market)
        assert found, f"no feed-row with a feed-pill for {market}"
        return tuple(found)

    state, text, row = pill("BTCUSDT")
    assert state == "live" and re.fullmatch(r"live · \d+ s ago", text), (state, text)
    assert "BTC/USDT" in row and "binance" in row, row
    state, text, _ = pill("ETHUSDT")
    assert (state, text) == ("stale", "stale · 3 h ago"), "a live feed whose last bar is 3 h old reads stale"
    assert pill("SOLUSDT")[:2] == ("backfilling", "backfilling · no bars yet")
    state, text, row = pill("XRPUSDT")
    assert state == "replay" and re.fullmatch(r"replay · 1 h ago", text), (state, text)
    assert "no exchange" in row, row
    # Only the fresh live feed is green.
    colours = browser.driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=feed-pill]')].map(p => "
        "[p.closest('[data-market]').dataset.market, getComputedStyle(p).color])")
    colour = dict(colours)
    assert len(set(colour.values())) == 4, f"each state has its own colour: {colour}"
    # The age ticks in the page.
    first = pill("BTCUSDT")[1]
    browser.wait_until(lambda _: pill("BTCUSDT")[1] != first, "the live pill's age to tick", timeout=5)

    # The market picker: symbols shown, canonical ids as values.
    options = browser.driver.execute_script(
        "return [...document.querySelector('[data-testid=market-select]').options].map(o => [o.value, o.text])")
    assert dict(options) == {"BTCUSDT": "BTC/USDT", "ETHUSDT": "ETH/USDT", "SOLUSDT": "SOL/USDT",
                             "XRPUSDT": "XRPUSDT"}, options
    # Choosing a row puts it on the chart (the request uses the canonical id).
    browser.driver.execute_script(
        "[...document.querySelectorAll('[data-testid=feed-row]')].find(r => r.dataset.market === 'ETHUSDT').click()")
    browser.wait_until(lambda _: browser.wait_for("market-select").get_attribute("value") == "ETHUSDT", "ETHUSDT chosen")
    browser.wait_until(lambda _: len(browser.all("candle")) == 3, "the three ETHUSDT bars on the chart")
    browser.screenshot("market-feeds")

    # The signal generator's picker offers only markets with bars, by symbol.
    browser.go("signals")
    gen = browser.wait_for("generate-market")
    browser.wait_until(lambda _: browser.driver.execute_script("return arguments[0].options.length", gen) == 3,
                       "three markets with bars in generate-market")
    options = browser.driver.execute_script("return [...arguments[0].options].map(o => [o.value, o.text])", gen)
    assert dict(options) == {"BTCUSDT": "BTC/USDT", "ETHUSDT": "ETH/USDT", "XRPUSDT": "XRPUSDT"}, options

    # The backtest form: markets by symbol, datasets with rows and range; a broken file is shown
    # but cannot be chosen; a backtest runs on the chosen dataset.
    browser.go("backtest")
    form = browser.wait_for("backtest-form")
    options = browser.driver.execute_script(
        "return [...document.querySelector('[data-testid=bt-market]').options].map(o => [o.value, o.text])")
    assert dict(options) == {"BTCUSDT": "BTC/USDT", "ETHUSDT": "ETH/USDT", "XRPUSDT": "XRPUSDT"}, options
    browser.click_element(browser.wait_for("bt-source-dataset"))
    picker = browser.wait_for("bt-dataset")
    options = browser.driver.execute_script(
        "return [...arguments[0].options].map(o => [o.value, o.text, o.disabled])", picker)
    assert [o[0] for o in options] == ["BTCUSDT-1h.csv", "broken.csv", ""], options
    assert re.fullmatch(r"BTCUSDT-1h\.csv — 300 rows, \d{4}-\d\d-\d\d \d\d:\d\d → \d{4}-\d\d-\d\d \d\d:\d\d UTC",
                        options[0][1]), options[0]
    assert options[1][2] is True and "cannot be used: dataset broken.csv: line 3" in options[1][1], options[1]
    assert options[2][1] == "Other file name…" and not browser.visible("bt-dataset-name")
    assert picker.get_attribute("value") == "BTCUSDT-1h.csv"
    select_option(browser, "bt-strategy", "sma_cross")
    browser.wait_for("bt-param-fast", within=form)
    browser.screenshot("backtest-dataset-picker")
    browser.click("bt-submit")
    report = browser.wait_for("bt-report", timeout=90)
    assert not browser.visible("bt-error"), browser.visible("bt-error")[0].text
    assert re.search(r"\d", browser.wait_for("bt-metrics", within=report).text)
    # "Other file name…" still takes a typed name; the server's refusal shows in the form.
    select_option(browser, "bt-dataset", "Other file name")
    name = browser.wait_for("bt-dataset-name")
    name.send_keys("missing.csv")
    browser.click("bt-submit")
    error = browser.wait_until(lambda _: (lambda v: v and v[0].text)(browser.visible("bt-error")), "bt-error")
    assert "missing.csv" in error and "BTCUSDT-1h.csv" in error, error
    browser.assert_no_console_errors()


def test_feed_list_fits_a_phone(start_gateway, make_browser):
    gw = start_gateway(ENGINE_OFF)
    seed_feeds(gw)
    b = make_browser(PHONE, "phone")
    b.open(gw)
    b.sign_in("VIEWER")
    b.go("market")
    b.wait_until(lambda _: len(b.visible("feed-pill")) == 4, "four feed pills shown")
    b.wait_until(lambda _: b.all("candle"), "the chosen market's candles")
    width, inner = b.horizontal_overflow()
    b.screenshot("market-feeds")
    assert width <= inner, f"the market view overflows a phone: {width}px > {inner}px: {b.overflowing()}"
    b.assert_no_console_errors()
