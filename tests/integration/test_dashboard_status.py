"""System status, the data-flow pill, browser notifications and responsiveness under a stream of
events. Headless Chromium on the real gateway and Redis; bars are appended to the klines streams
the way a live ingest appends them (its status hash says `live`), and ledger changes go through
the ledger's own scripts, so each emits the event the dashboard listens to.
"""

from __future__ import annotations

import json
import os
import threading
import time

from browser import PHONE
from test_dashboard import ENGINE_OFF, record_signal
from test_dashboard_chart import WIDE, configure, seed_bars
from test_dashboard_markets import add_bars, ingest_status, rfc3339
from test_ledger_api import run_script

MINUTE_MS = 60_000


class Feed:
    """Appends a 1m bar to `klines:{market}:1m` every `period` s (auto stream ids: arrival now)
    until stopped, as a live ingest would."""

    def __init__(self, gw, market: str, period: float):
        self.gw, self.market, self.period = gw, market, period
        self.open_ms = (int(time.time() * 1000) // MINUTE_MS - 1) * MINUTE_MS
        self.sent = 0
        self.last_sent = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        with self.gw.redis() as r:
            while not self._stop.is_set():
                self.open_ms += MINUTE_MS
                r.execute("XADD", f"bedrock:stream:klines:{self.market}:1m", "*", "event", json.dumps({
                    "event_type": "kline.closed", "schema_version": "2.0", "timestamp": rfc3339(self.open_ms + MINUTE_MS),
                    "market": self.market, "interval": "1m", "open_time": rfc3339(self.open_ms),
                    "open": 100, "high": 101, "low": 99, "close": 100.5, "volume": 3}))
                self.sent += 1
                self.last_sent = time.monotonic()
                self._stop.wait(self.period)

    def start(self) -> "Feed":
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)


def flow(b) -> str:
    return b.driver.execute_script("return document.querySelector('[data-testid=data-flow]').dataset.state")


def feed_pill(b, market: str) -> str | None:
    """The state of the market view's feed pill of `market`."""
    return b.driver.execute_script(
        "const row = [...document.querySelectorAll('[data-testid=feed-row]')].find(r => r.dataset.market === arguments[0]);"
        "const pill = row && row.querySelector('[data-testid=feed-pill]'); return pill ? pill.dataset.state : null;", market)


def feed_row(b, market: str) -> dict | None:
    return b.driver.execute_script("""
      const row = [...document.querySelectorAll('[data-testid=status-feed-row]')].find(r => r.dataset.market === arguments[0]);
      return row ? {state: row.dataset.state, age: row.querySelector('[data-testid=status-feed-age]').textContent,
                    ageMs: row.querySelector('[data-testid=status-feed-age]').dataset.ageMs, text: row.textContent} : null;""", market)


def test_status_view_and_data_flow_pill(start_gateway, make_browser):
    gw = start_gateway(ENGINE_OFF)
    now = int(time.time() * 1000)
    with gw.redis() as r:
        ingest_status(r, "BTCUSDT", "1m", "binance", "BTC/USDT", "live")
        # Replayed bars, no ingest: listed with their age, not counted as a live feed.
        add_bars(r, "XRPUSDT", 60 * MINUTE_MS, "1h", (now // MINUTE_MS) * MINUTE_MS - 3 * 60 * MINUTE_MS)
    feed = Feed(gw, "BTCUSDT", 0.5).start()
    try:
        b = make_browser(WIDE, "desktop")
        b.open(gw)
        b.sign_in("VIEWER")
        b.wait_until(lambda _: flow(b) == "live", "the data-flow pill live while bars arrive")
        b.go("status")
        b.wait_until(lambda _: (feed_row(b, "BTCUSDT") or {}).get("state") == "live", "BTCUSDT live on the status view")
        # The page learns the feed's cadence from the bars it sees (a bar every 0.5 s here).
        b.wait_until(lambda _: "every 0.5 s" in (feed_row(b, "BTCUSDT") or {}).get("text", ""), "the cadence learned")
        xrp = b.wait_until(lambda _: feed_row(b, "XRPUSDT"), "the XRPUSDT row")
        assert xrp["state"] == "replay" and xrp["age"] == "2 h", xrp  # the last bar closed 2 h ago
        assert "BTC/USDT" in feed_row(b, "BTCUSDT")["text"]
        b.wait_until(lambda _: b.text("status-redis-value") == "up", "Redis up (from /ready)")
        b.wait_until(lambda _: b.text("status-engine-value") == "off · config v0", "the engine off (no strategies)")
        assert "Kill switch off" in b.text("status-engine-note")
        b.wait_until(lambda _: b.text("status-jobs-value") == "0 queued · 0 running", "the job queue")
        # The job history (backtest.jobs): the caller's own jobs, across every gateway.
        assert b.wait_for("status-jobs").get_attribute("data-source") == "jobs"
        assert "Of your newest 0 jobs" in b.text("status-jobs-note")
        assert b.text("status-flow-value").startswith("live")
        b.screenshot("status-live")
        # The market view's feed pill also follows the bars arriving, at the cadence learned.
        b.go("market")
        b.wait_until(lambda _: feed_pill(b, "BTCUSDT") == "live", "BTCUSDT's feed pill live")
    finally:
        feed.stop()
    stopped = time.monotonic()
    # The feed stops; the socket stays open: the pills go stale within two cadences (+1 s), not
    # two intervals (2 min).
    b.wait_until(lambda _: flow(b) == "stale", "the pill stale once bars stop", timeout=10)
    waited = time.monotonic() - stopped
    assert 0.5 < waited < 5, f"stale after {waited:.1f}s for a 0.5 s cadence"
    assert b.conn_state() == "connected", "the socket is still open: only the data stopped"
    assert "BTC/USDT 1m" in b.text("data-flow")
    b.wait_until(lambda _: feed_pill(b, "BTCUSDT") == "stale", "BTCUSDT's feed pill stale", timeout=5)
    b.go("status")
    b.wait_until(lambda _: (feed_row(b, "BTCUSDT") or {}).get("state") == "stale", "BTCUSDT stale on the status view")
    assert b.text("status-flow-value").startswith("stale")
    b.screenshot("status-stale")
    feed.start()
    try:
        b.wait_until(lambda _: flow(b) == "live", "live again when bars resume")
    finally:
        feed.stop()
    # A stored engine configuration (here paused) shows within the view's refresh.
    admin = {"Authorization": f"Bearer {gw.token('ADMIN', 'ops')}", "Content-Type": "application/json"}
    status, _, raw = gw.http("POST", "/v1/engine/config", admin,
                             json.dumps({"strategies": ["pullback"], "status": "paused"}).encode())
    assert status == 200, raw
    b.wait_until(lambda _: b.text("status-engine-value") == "paused · config v1", "the paused engine on the status view",
                 timeout=15)
    assert "pullback" in b.text("status-engine-note")
    b.assert_no_console_errors()

    phone = make_browser(PHONE, "phone")
    phone.open(gw)
    phone.sign_in("VIEWER")
    phone.go("status")
    phone.wait_until(lambda _: feed_row(phone, "XRPUSDT"), "the status view on a phone")
    phone.wait_until(lambda _: phone.text("status-redis-value") == "up", "Redis up on a phone")
    width = phone.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the page scrolls sideways on a phone: {width}px"
    phone.screenshot("status")
    phone.assert_no_console_errors()


# A stand-in for the browser's Notification API, installed before the page's scripts run: it
# records each notification and each permission request (the permission starts undecided).
FAKE_NOTIFICATION = """
(() => {
  const calls = []; let permission = 'default'; let asked = 0;
  class RecordingNotification {
    constructor(title, options) { calls.push({ title, body: options && options.body, tag: options && options.tag }); }
    close() {}
    static get permission() { return permission; }
    static requestPermission() { asked += 1; permission = 'granted'; return Promise.resolve('granted'); }
  }
  window.Notification = RecordingNotification;
  window.__notes = { calls, asked: () => asked };
})();
"""


def notes(b) -> list[dict]:
    return b.driver.execute_script("return window.__notes.calls")


def asked(b) -> int:
    return b.driver.execute_script("return window.__notes.asked()")


def test_notifications_only_after_opt_in(start_gateway, make_browser):
    gw = start_gateway(ENGINE_OFF)
    b = make_browser(WIDE, "desktop")
    b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_NOTIFICATION})
    b.open(gw)
    b.sign_in("ADMIN")
    toggle = b.wait_for("notify-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    hour = (int(time.time() * 1000) // 3_600_000) * 3_600_000
    admin = {"Authorization": f"Bearer {gw.token('ADMIN')}", "Content-Type": "application/json"}

    def every_kind(n: int) -> None:
        """An approved and a rejected signal, two fills (one stopped out, one closed at its
        target), the kill switch engaged and released: five notifications (approved signal, two
        fills, stop-out, kill switch engaged)."""
        bar = rfc3339(hour - (10 * n + 5) * 3_600_000)
        record_signal(gw, bar, 100 + n)
        record_signal(gw, rfc3339(hour - (10 * n + 6) * 3_600_000), 90, decision="REJECTED")
        with gw.redis() as r:
            for exit_price, reason in (("97", "STOP_LOSS"), ("110", "TAKE_PROFIT")):
                out = run_script(r, "open_position", {"signal_id": None, "market": "BTCUSDT", "side": "BUY", "size": "1",
                                                      "entry_price": "100", "stop_loss_price": "97",
                                                      "profit_target_price": "110", "commission_rate": 0.001})
                assert out["status"] == "opened", out
                out = run_script(r, "close_position", {"position_id": out["id"], "exit_price": exit_price,
                                                       "exit_reason": reason, "commission_rate": 0.001})
                assert out["status"] == "closed", out
        for enabled in (True, False):
            status, _, body = gw.http("POST", "/v1/risk/kill-switch", admin,
                                      json.dumps({"enabled": enabled, "reason": f"test {n}"}).encode())
            assert status == 200, (status, body)

    def signals_seen(count: int) -> None:
        """The page got the events (the signals view lists the newest signals live)."""
        b.go("signals")
        b.wait_until(lambda _: len(b.all("signal-row")) >= count, f"{count} signal rows")
        b.go("risk")
        b.wait_until(lambda _: len(b.all("risk-alert")) >= count, f"{count} kill switch alerts")

    # Off: events arrive, nothing is shown and the permission is not asked for.
    b.go("risk")
    b.wait_for("kill-switch")
    every_kind(0)
    signals_seen(2)
    assert notes(b) == [] and asked(b) == 0

    # On: the click asks once; then one notification per kind.
    b.click("notify-toggle")
    b.wait_until(lambda _: toggle.get_attribute("aria-pressed") == "true", "the bell on")
    assert asked(b) == 1
    every_kind(1)
    b.wait_until(lambda _: len(notes(b)) >= 5, "five notifications")
    signals_seen(4)
    shown = notes(b)
    titles = sorted(n["title"] for n in shown)
    assert len(shown) == 5, shown
    assert titles == ["Approved BUY signal · BTCUSDT 1h", "Kill switch engaged: no new entries",
                      "Position opened · BTCUSDT", "Position opened · BTCUSDT", "Stopped out · BTCUSDT"], titles
    by_title = {n["title"]: n for n in shown}
    assert "at 101.0000" in by_title[titles[0]]["body"], by_title[titles[0]]
    assert "BUY 1 at 100.0000, stop 97.0000" in by_title["Position opened · BTCUSDT"]["body"], shown
    assert "test 1" in by_title["Kill switch engaged: no new entries"]["body"]
    assert "closed at 97.0000" in by_title["Stopped out · BTCUSDT"]["body"], by_title["Stopped out · BTCUSDT"]
    b.screenshot("notifications-on")

    # Off again: nothing more.
    b.click("notify-toggle")
    b.wait_until(lambda _: toggle.get_attribute("aria-pressed") == "false", "the bell off")
    every_kind(2)
    signals_seen(6)
    assert len(notes(b)) == 5

    # On, then a reload: the browser forgot the permission (the stand-in starts undecided), so
    # the bell stays off and nothing is asked without a click.
    b.click("notify-toggle")
    b.wait_until(lambda _: toggle.get_attribute("aria-pressed") == "true", "the bell on again")
    b.reload()
    b.wait_signed_in("ADMIN")
    assert b.wait_for("notify-toggle").get_attribute("aria-pressed") == "false"
    assert asked(b) == 0
    b.assert_no_console_errors()


LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]); })
  .observe({ type: 'longtask', buffered: true });
"""


def test_no_long_task_while_events_stream(start_gateway, make_browser):
    """2 events/s (a bar and a signal each second) for 20 s on the market view with 3,000 bars
    held, indicators and volume drawn: no task of the page takes over 100 ms."""
    gw = start_gateway(ENGINE_OFF)
    bars = seed_bars(gw, 3500)
    configure(gw, {"strategies": ["pullback", "oops"]})
    b = make_browser(WIDE, "desktop")
    b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LONG_TASKS})
    b.open(gw)
    b.sign_in("TRADER")
    b.go("market")
    b.wait_until(lambda _: len(b.all("indicator-line")) == 2 and len(b.all("candle")) == 200, "the chart drawn")
    svg = b.wait_for("candle-chart")
    held = lambda: b.driver.execute_script(  # noqa: E731
        "return +document.querySelector('[data-testid=candle-chart]').dataset.bars")
    while held() < 3000:  # hold 3,000 bars, the most the chart keeps: Home loads the page before
        before = held()
        svg.send_keys("\ue011")
        b.wait_until(lambda _: held() > before, "an older page")
    svg.send_keys("\ue010")
    b.driver.execute_cdp_cmd("Performance.enable", {})
    metrics = lambda: {m["name"]: m["value"] for m in  # noqa: E731
                       b.driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    before = metrics()
    start = b.driver.execute_script("return performance.now()")
    last_open = bars[-1]["time"]
    price = bars[-1]["close"]
    for i in range(20):
        t0 = time.monotonic()
        last_open += 3_600_000
        gw.xadd("klines:BTCUSDT:1h", {"event_type": "kline.closed", "schema_version": "2.0",
                                       "timestamp": rfc3339(last_open + 3_600_000), "market": "BTCUSDT", "interval": "1h",
                                       "open_time": rfc3339(last_open), "open": price, "high": price * 1.01,
                                       "low": price * 0.99, "close": price * 1.002, "volume": 10})
        price *= 1.002
        time.sleep(0.5)
        record_signal(gw, rfc3339(last_open), price)
        time.sleep(max(0, 1 - (time.monotonic() - t0)))
    b.wait_until(lambda _: b.wait_for("candle-chart").get_attribute("data-offset") == "0" and
                 b.all("candle")[-1].get_attribute("data-time") == str(last_open), "the last bar drawn")
    after = metrics()
    script_ms = (after["ScriptDuration"] - before["ScriptDuration"]) * 1000
    tasks = b.driver.execute_script("return window.__longTasks.filter(t => t[0] >= arguments[0])", start)
    longest = max((d for _, d in tasks), default=0)
    load = os.getloadavg()[0]
    print(f"40 events: script {script_ms:.0f} ms in all; long tasks {len(tasks)}, longest {longest:.0f} ms; "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    # The page's own work per event (script time, which a loaded machine stretches far less than
    # a task's wall time) stays small.
    assert script_ms / 40 < 25, f"{script_ms / 40:.1f} ms of script per event"
    # The long-task bound holds on a machine with CPU to spare; a machine running several times
    # more work than it has cores stretches every task (measured: ~9 ms of script per event; the
    # longest task 54 ms in a quieter run, 60-180 ms at load 19 on 2 cores), so there the figure
    # is reported only.
    if load <= 2 * (os.cpu_count() or 1):
        assert longest <= 100, f"a task of {longest:.0f} ms while events streamed: {tasks}"
    # The observer does see long tasks: a 150 ms busy loop in a timer is recorded.
    b.driver.execute_script("setTimeout(() => { const t = performance.now(); while (performance.now() - t < 150); }, 0)")
    b.wait_until(lambda _: b.driver.execute_script(
        "return window.__longTasks.some(t => t[0] >= arguments[0] && t[1] >= 150)", start), "the busy loop recorded")
    b.assert_no_console_errors()
