"""The market chart as a trader uses it: the live strategies' indicators (moving averages and ATR
bands, computed in the page from the bars shown), volume bars, the open position's entry, stop and
target as price levels (updated from the portfolio stream), zoom (buttons, keyboard, wheel) and
older history loaded page by page as the view scrolls back, with the bars held capped.
Headless Chromium on the real gateway and Redis; bars and positions are written the way the
ingest and the ledger write them.
"""

from __future__ import annotations

import json
import random
import re

from browser import PHONE
from test_dashboard import ENGINE_OFF, record_signal
from test_dashboard_markets import rfc3339
from test_ledger_api import run_script

HOUR_MS = 3_600_000
WIDE = (1440, 900)
MARKET, INTERVAL = "BTCUSDT", "1h"


def seed_bars(gw, count: int, seed: int = 5) -> list[dict]:
    """`count` hourly bars of a random walk, the newest opening two hours before the current
    hour, appended to the klines stream as the ingest appends them; returns them oldest first."""
    rng = random.Random(seed)
    last_open = (gw_now_ms() // HOUR_MS - 2) * HOUR_MS
    first_open = last_open - (count - 1) * HOUR_MS
    bars, price = [], 100.0
    for i in range(count):
        t = first_open + i * HOUR_MS
        o = price
        c = max(1.0, o * (1 + rng.gauss(0, 0.01)))
        h = max(o, c) * (1 + abs(rng.gauss(0, 0.004)))
        low = min(o, c) * (1 - abs(rng.gauss(0, 0.004)))
        v = round(rng.uniform(5, 100), 3)
        bars.append({"time": t, "open": round(o, 4), "high": round(h, 4), "low": round(low, 4),
                     "close": round(c, 4), "volume": v})
        price = c
    with gw.redis() as r:
        for start in range(0, count, 500):
            r.pipeline([("XADD", f"bedrock:stream:klines:{MARKET}:{INTERVAL}", f"{b['time'] + HOUR_MS}-0", "event",
                         json.dumps({"event_type": "kline.closed", "schema_version": "2.0",
                                     "timestamp": rfc3339(b["time"] + HOUR_MS), "market": MARKET,
                                     "interval": INTERVAL, "open_time": rfc3339(b["time"]), "open": b["open"],
                                     "high": b["high"], "low": b["low"], "close": b["close"],
                                     "volume": b["volume"]}))
                        for b in bars[start:start + 500]])
    return bars


def configure(gw, body: dict) -> dict:
    """Stores an engine configuration version (ADMIN) and returns it."""
    headers = {"Authorization": f"Bearer {gw.token('ADMIN', 'ops')}", "Content-Type": "application/json"}
    status, _, raw = gw.http("POST", "/v1/engine/config", headers, json.dumps(body).encode())
    assert status == 200, raw
    return json.loads(raw)


def gw_now_ms() -> int:
    import time
    return int(time.time() * 1000)


def open_with_levels(gw, entry: float, stop: float, target: float, hours_ago: int = 3) -> int:
    """An open BUY position with a stop and a target, as the engine opens one (its
    `portfolio.updated` event included), from a signal on the bar `hours_ago` hours back."""
    sid = record_signal(gw, rfc3339((gw_now_ms() // HOUR_MS - hours_ago) * HOUR_MS), entry)
    with gw.redis() as r:
        out = run_script(r, "open_position", {"signal_id": sid, "market": MARKET, "side": "BUY", "size": "1",
                                              "entry_price": str(entry), "stop_loss_price": str(stop),
                                              "profit_target_price": str(target), "commission_rate": 0.001})
    assert out["status"] == "opened", out
    return int(out["id"])


def sma(values: list[float], n: int) -> float:
    return sum(values[-n:]) / n


def ema(values: list[float], n: int) -> float:
    value = sum(values[:n]) / n
    alpha = 2 / (n + 1)
    for v in values[n:]:
        value += alpha * (v - value)
    return value


def chart_state(b) -> dict:
    """What the chart shows, read in one go: bars held and visible, candles, indicator paths (last
    point), volume bars, price levels (price, y)."""
    return b.driver.execute_script("""
      const svg = document.querySelector('[data-testid=candle-chart]');
      const last = (d) => { const m = [...d.matchAll(/[ML](-?[\\d.]+),(-?[\\d.]+)/g)]; const p = m[m.length - 1];
        return p ? [+p[1], +p[2], m.length] : null; };
      return {
        held: +svg.dataset.bars, visible: +svg.dataset.visible, offset: +svg.dataset.offset,
        box: svg.viewBox.baseVal ? [svg.viewBox.baseVal.width, svg.viewBox.baseVal.height] : null,
        candles: [...svg.querySelectorAll('[data-testid=candle]')].map(g => +g.dataset.time),
        lines: [...svg.querySelectorAll('[data-testid=indicator-line]')].map(p => [p.dataset.indicator, last(p.getAttribute('d'))]),
        bands: [...svg.querySelectorAll('[data-testid=indicator-band]')].map(p => p.dataset.indicator),
        volume: [...svg.querySelectorAll('[data-testid=volume-bar]')].map(r => [+r.dataset.volume, +r.getAttribute('y'), +r.getAttribute('height')]),
        levels: [...svg.querySelectorAll('[data-testid=level-line]')].map(g => [g.dataset.kind, +g.dataset.price,
          +g.querySelector('line').getAttribute('y1')]),
      };""")


def test_chart_indicators_volume_levels_zoom_and_history(start_gateway, make_browser):
    gw = start_gateway(ENGINE_OFF)
    bars = seed_bars(gw, 3500)
    closes = [b["close"] for b in bars]
    # The live configuration names the strategies (this gateway's own engine is off, so the seeded
    # bars are not traded): the chart draws theirs.
    configure(gw, {"strategies": ["pullback", "oops"]})
    b = make_browser(WIDE, "desktop")
    b.open(gw)
    b.sign_in("TRADER")
    b.go("market")
    b.wait_until(lambda _: len(b.all("candle")) == 200, "200 candles on a wide screen")
    b.wait_until(lambda _: len(chart_state(b)["lines"]) == 2, "two indicator lines")
    s = chart_state(b)
    assert s["held"] == 1000, s["held"]  # the first page of history

    # The live strategies with their parameters: pullback's SMA 50 and EMA 20 with its EMA band,
    # oops's SMA 50 (shared) with its SMA band.
    assert sorted(name for name, _ in s["lines"]) == ["EMA 20", "SMA 50"], s["lines"]
    assert sorted(s["bands"]) == ["EMA 20 ± 2 ATR 14", "SMA 50 ± 2 ATR 14"], s["bands"]
    keys = [el.get_attribute("data-indicator") for el in b.all("indicator-key-item")]
    assert sorted(keys) == sorted(["SMA 50", "EMA 20", "EMA 20 ± 2 ATR 14", "SMA 50 ± 2 ATR 14"]), keys
    assert "engine configuration v1" in b.text("indicator-source")
    width, height = s["box"]
    for name, point in s["lines"]:
        x, y, n = point
        assert n == 200 and width * 0.8 < x < width and 0 < y < height, (name, point, s["box"])

    # Volume: one bar per candle, heights in proportion, all standing on the same baseline.
    vol = s["volume"]
    assert len(vol) == 200
    tallest = max(vol, key=lambda v: v[2])
    assert tallest[0] == max(v[0] for v in vol), "the tallest bar is the largest volume"
    baselines = {round(y + h, 1) for _, y, h in vol}
    assert len(baselines) == 1 and list(baselines)[0] <= height, baselines
    for v, _, h in vol:
        assert abs(h / tallest[2] - v / tallest[0]) < 0.02 or h <= 1, (v, h, tallest)

    # A position opened while the chart is shown: its entry, stop and target appear as levels.
    assert not b.all("level-line")
    last_close = closes[-1]
    entry, stop, target = round(last_close, 2), round(last_close * 0.97, 2), round(last_close * 1.05, 2)
    pid = open_with_levels(gw, entry, stop, target)
    b.wait_until(lambda _: len(b.all("level-line")) == 3, "entry, stop and target levels")
    levels = {kind: (price, y) for kind, price, y in chart_state(b)["levels"]}
    assert {k: p for k, (p, _) in levels.items()} == {"entry": entry, "stop": stop, "target": target}, levels
    assert levels["target"][1] < levels["entry"][1] < levels["stop"][1], "target above entry above stop"
    # The price scale from two levels checks the indicators' values: the SMA 50 and EMA 20 of
    # the last bar, as TradingCore computes them.
    (p1, y1), (p2, y2) = levels["stop"], levels["target"]
    price_at = lambda y: p1 + (y - y1) * (p2 - p1) / (y2 - y1)  # noqa: E731
    shown = dict(chart_state(b)["lines"])
    assert abs(price_at(shown["SMA 50"][1]) - sma(closes, 50)) < (p2 - p1) * 0.01, (price_at(shown["SMA 50"][1]), sma(closes, 50))
    assert abs(price_at(shown["EMA 20"][1]) - ema(closes[-1000:], 20)) < (p2 - p1) * 0.01
    b.screenshot("chart-indicators-levels")
    b.click("theme-toggle")
    b.screenshot("chart-indicators-levels-other-theme")

    # Closing it removes the levels (position.closed on the portfolio stream).
    status, _, body = gw.http("POST", f"/v1/positions/{pid}/close",
                              {"Authorization": f"Bearer {gw.token('TRADER')}", "Content-Type": "application/json"}, b"{}")
    assert status == 200, (status, body)
    b.wait_until(lambda _: not b.all("level-line"), "the levels gone once the position closed")

    # Zoom: buttons, keyboard, wheel; the right edge stays on the latest bar.
    latest = chart_state(b)["candles"][-1]
    b.click("chart-zoom-in")
    b.wait_until(lambda _: len(b.all("candle")) == 133, "fewer bars after zooming in")
    assert chart_state(b)["candles"][-1] == latest
    b.click("chart-zoom-out")
    b.click("chart-zoom-out")
    b.wait_until(lambda _: len(b.all("candle")) > 250, "more bars after zooming out")
    b.click("chart-zoom-reset")
    b.wait_until(lambda _: len(b.all("candle")) == 200, "200 bars after a reset")
    svg = b.wait_for("candle-chart")
    svg.send_keys("+")
    b.wait_until(lambda _: len(b.all("candle")) == 160, "'+' zooms in")
    svg.send_keys("0")
    b.wait_until(lambda _: len(b.all("candle")) == 200, "'0' resets")
    b.driver.execute_script("arguments[0].dispatchEvent(new WheelEvent('wheel', {deltaY: 200, bubbles: true, cancelable: true}))", svg)
    b.wait_until(lambda _: len(b.all("candle")) > 200, "a wheel down zooms out")
    svg.send_keys("0")

    # Scroll back: Home reaches the oldest bar held, which loads the page before it, and so on
    # until 3,000 bars are held; never more, though the stream holds 3,500.
    held = [chart_state(b)["held"]]
    for _ in range(8):
        svg.send_keys("\ue011")  # Home
        b.wait_until(lambda _: chart_state(b)["held"] > held[-1] or chart_state(b)["held"] >= 3000,
                     "an older page after Home")
        held.append(chart_state(b)["held"])
        if held[-1] >= 3000:
            break
    assert held[:3] == [1000, 1500, 2000] and held[-1] == 3000, held
    svg.send_keys("\ue011")
    s = chart_state(b)
    assert s["held"] == 3000 and s["candles"][0] == bars[500]["time"], (s["held"], s["candles"][0])
    assert "the most kept" in b.driver.execute_script("return document.querySelector('.market-status').textContent")
    svg.send_keys("\ue010")  # End: back to the latest
    b.wait_until(lambda _: chart_state(b)["candles"][-1] == bars[-1]["time"], "End shows the latest bar")
    # An administrator changes the live parameters elsewhere: the open chart redraws with them
    # (engine.config_changed on topic risk).
    configure(gw, {"strategies": [{"name": "pullback", "params": {"ema_period": 30, "trend_period": 80}}]})
    b.wait_until(lambda _: sorted(name for name, _ in chart_state(b)["lines"]) == ["EMA 30", "SMA 80"],
                 "the chart redrawn with the new parameters")
    assert "engine configuration v2" in b.text("indicator-source")
    b.assert_no_console_errors()


def pinch(b, centre: tuple[float, float], start: float, end: float, steps: int = 6) -> None:
    """Two touch points on a horizontal line through `centre`, `start` px apart, moved to `end` px."""
    cx, cy = centre

    def points(gap: float) -> list[dict]:
        return [{"x": cx - gap / 2, "y": cy, "id": 1}, {"x": cx + gap / 2, "y": cy, "id": 2}]
    b.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points(start)})
    for i in range(1, steps + 1):
        b.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {
            "type": "touchMove", "touchPoints": points(start + (end - start) * i / steps)})
    b.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_chart_on_a_phone(start_gateway, make_browser):
    gw = start_gateway(ENGINE_OFF)
    bars = seed_bars(gw, 600)
    configure(gw, {"strategies": ["pullback", "oops"]})
    last = bars[-1]["close"]
    open_with_levels(gw, round(last, 2), round(last * 0.98, 2), round(last * 1.04, 2))
    b = make_browser(PHONE, "phone")
    b.open(gw)
    b.sign_in("TRADER")
    b.go("market")
    b.wait_until(lambda _: len(b.all("level-line")) == 3 and len(chart_state(b)["lines"]) == 2,
                 "levels and indicators on a phone")
    s = chart_state(b)
    assert 10 <= s["visible"] < 200 and len(s["volume"]) == s["visible"], s["visible"]
    width = b.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the page scrolls sideways on a phone: {width}px"
    b.click("chart-zoom-in")
    b.wait_until(lambda _: chart_state(b)["visible"] < s["visible"], "zoom in on a phone")
    # Two fingers spreading apart zoom in further; pinching together zooms out.
    zoomed = chart_state(b)["visible"]
    box = b.driver.execute_script(
        "const r = document.querySelector('[data-testid=candle-chart]').getBoundingClientRect();"
        "return [r.left + r.width / 2, r.top + r.height / 2];")
    pinch(b, box, 30, 120)
    b.wait_until(lambda _: chart_state(b)["visible"] < zoomed, "spreading two fingers zooms in")
    spread = chart_state(b)["visible"]
    pinch(b, box, 120, 30)
    b.wait_until(lambda _: chart_state(b)["visible"] > spread, "pinching zooms out")
    b.driver.execute_script("document.querySelector('[data-testid=candle-chart]').scrollIntoView({block: 'start'})")
    b.screenshot("chart-phone")
    assert re.search(r"\d", b.text("market-last"))
    b.assert_no_console_errors()
