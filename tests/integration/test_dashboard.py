"""Browser tests of the dashboard (docs/DASHBOARD.md): headless Chromium on the real gateway.

Every element is found through the `data-testid` hooks of DASHBOARD.md. Data reaches the page the
way it does in production: the ledger's own Lua scripts (signal.created with the ledger record, in
one step), `bedrock replay` bars into the gateway's Redis for the live engine, backtest jobs.
Screenshots of every view at desktop and phone width go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import io
import json
import re
import signal as sig_mod
import time
from pathlib import Path

from browser import Browser, DESKTOP, PHONE
from helpers import make_jwt
from test_engine import engine_wired, replay, sample, wait_processed
from test_ledger_api import run_script

MARKET, INTERVAL = "BTCUSDT", "1h"
ENGINE_OFF = {"engine": {"strategies": []}}
FAST_ENGINE = {"engine": {"discover_interval_ms": 100, "claim_idle_ms": 500, "lease_ms": 1000}}
VIEWS = ("signals", "portfolio", "market", "backtest", "models", "risk")
TRADING_CONTROLS = ("generate-signal", "close-position", "backtest-form", "bt-submit", "kill-switch")
# Messages Chromium itself logs while the gateway is down (the reconnect test stops it on purpose).
OFFLINE_NOISE = (r"WebSocket connection to .* failed", r"net::ERR_CONNECTION_REFUSED",
                 r"Failed to load resource", r"Failed to fetch")


# ---------------------------------------------------------------------------------------------
# data


def auth(gw, role: str = "VIEWER") -> dict:
    return {"Authorization": f"Bearer {gw.token(role)}"}


def api(gw, path: str, role: str = "VIEWER"):
    status, _, body = gw.get_json(path, auth(gw, role))
    assert status == 200, (path, status, body)
    return body


def record_signal(gw, bar_time: str, entry: float = 100.0, market: str = MARKET, side: str = "BUY",
                  decision: str = "APPROVED") -> int:
    """A signal written by the ledger's `record_signal` script: the record and its
    `signal.created` event on stream:signals in one step, exactly as the live engine does it."""
    sell = side == "SELL"
    fields = {"strategy": "oops", "market": market, "interval": INTERVAL, "bar_time": bar_time,
              "signal_type": "OOPS_SELL" if sell else "OOPS_BUY", "side": side, "entry_price": entry,
              "stop_loss_price": entry * (1.05 if sell else 0.95),
              "profit_target_price": entry * (0.9 if sell else 1.1), "risk_unit_r": entry * 0.05,
              "suggested_position_weight": 0.5, "rule_engine_score": 77, "ml_confidence_score": None,
              "llm_sentiment": None, "final_decision": decision, "explanation": "browser test"}
    with gw.redis() as r:
        out = run_script(r, "record_signal", fields)
    assert out["status"] == "created", out
    return int(out["id"])


def open_position(gw, signal_id: int, entry: float = 100.0, market: str = MARKET, size: str = "2") -> int:
    with gw.redis() as r:
        out = run_script(r, "open_position", {"signal_id": signal_id, "market": market, "side": "BUY",
                                              "size": size, "entry_price": str(entry),
                                              "stop_loss_price": str(entry * 0.95), "commission_rate": 0.001})
    assert out["status"] == "opened", out
    return int(out["id"])


def replay_bars(gw, tmp_path: Path, bars: int, seed: int) -> Path:
    """Writes the synthetic market and replays every bar into the gateway's Redis at once."""
    csv_path = sample(tmp_path, bars, seed=seed)
    feeder = replay(csv_path, gw.redis_url, tmp_path)
    assert feeder.wait(90) == 0, feeder.stderr.read().decode(errors="replace")
    return csv_path


def replay_until(gw, tmp_path: Path, found, what: str, seed: int = 7, chunk: int = 20, bars: int = 400):
    """Replays the synthetic market `chunk` bars at a time (each chunk a `bedrock replay` of its
    own rows) until `found()` answers something once the engine processed them; returns it."""
    rows = sample(tmp_path, bars, seed=seed).read_text().splitlines()
    head, rows = rows[0], rows[1:]
    done = 0
    while done < len(rows):
        part = tmp_path / f"bars-{done}.csv"
        part.write_text("\n".join([head, *rows[done:done + chunk]]) + "\n")
        feeder = replay(part, gw.redis_url, tmp_path)
        assert feeder.wait(60) == 0, feeder.stderr.read().decode(errors="replace")
        done += len(rows[done:done + chunk])
        wait_processed(gw, done)
        result = found()
        if result:
            return result
    raise AssertionError(f"no {what} after replaying {done} bars (seed {seed})")


def replay_until_open(gw, tmp_path: Path, seed: int = 7, chunk: int = 20, bars: int = 400) -> dict:
    """Replays the synthetic market until the live engine holds an open position; returns it."""
    return replay_until(gw, tmp_path, lambda: next(iter(api(gw, "/v1/positions?status=OPEN")["data"]), None),
                        "open position", seed=seed, chunk=chunk, bars=bars)


def number(text: str) -> float:
    """The first number in a formatted text ("−1,234.50 USDT" → -1234.5)."""
    t = text.replace("\u2212", "-").replace(",", "").replace("\u202f", "").replace("\u00a0", "")
    m = re.search(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", t)
    assert m, f"no number in {text!r}"
    return float(m.group())


def close_enough(shown: float, actual: float, what: str) -> None:
    """What the page shows equals the API's figure up to display rounding (2 significant decimals
    of the larger, or 1 %)."""
    tol = max(0.01 * abs(actual), 0.011)
    assert abs(shown - actual) <= tol, f"{what}: the page shows {shown}, the API says {actual}"


# ---------------------------------------------------------------------------------------------
# page helpers


def signal_row(b: Browser, signal_id: int, timeout: float = 20):
    return b.wait_until(
        lambda d: next((el for el in b.all("signal-row") if el.get_attribute("data-signal-id") == str(signal_id)),
                       False),
        f"signal-row data-signal-id={signal_id}", timeout)


def position_row(b: Browser, position_id: int, hook: str = "position-row", timeout: float = 20):
    return b.wait_until(
        lambda d: next((el for el in b.all(hook) if el.get_attribute("data-position-id") == str(position_id)),
                       False),
        f"{hook} data-position-id={position_id}", timeout)


WATCH_ROWS = """
window.__rowSeen = window.__rowSeen || {};
const mark = () => document.querySelectorAll('[data-testid="signal-row"][data-signal-id]').forEach(el => {
  const id = el.getAttribute('data-signal-id');
  if (!(id in window.__rowSeen)) window.__rowSeen[id] = Date.now();
});
mark();
if (!window.__rowObserver) {
  window.__rowObserver = new MutationObserver(mark);
  window.__rowObserver.observe(document.documentElement,
    {childList: true, subtree: true, attributes: true, attributeFilter: ['data-signal-id']});
}
"""

WATCH_CONN = """
window.__connStates = [];
const el = document.querySelector('[data-testid="conn-state"]');
const note = () => { const s = el.getAttribute('data-state');
  if (window.__connStates[window.__connStates.length - 1] !== s) window.__connStates.push(s); };
note();
new MutationObserver(note).observe(el, {attributes: true, attributeFilter: ['data-state']});
"""


def select_option(b: Browser, hook: str, wanted: str) -> None:
    """Chooses the option of the `<select>` `hook` whose value or label contains `wanted`."""
    from selenium.webdriver.support.ui import Select
    el = b.wait_for(hook)
    assert el.tag_name.lower() == "select", f"{hook} is a <{el.tag_name}>, expected a <select>"
    sel = Select(el)
    b.wait_until(lambda _: any(wanted in (o.get_attribute("value") or "") + o.text for o in sel.options),
                 f"an option containing {wanted!r} in {hook}")
    for o in sel.options:
        if wanted in (o.get_attribute("value") or "") + o.text:
            sel.select_by_visible_text(o.text) if o.text else sel.select_by_value(o.get_attribute("value"))
            return


# ---------------------------------------------------------------------------------------------
# tests


def test_page_loads_without_console_errors(gateway, browser):
    browser.open(gateway)
    for role in ("VIEWER", "TRADER", "ADMIN"):
        browser.wait_for(f"dev-signin-{role}")
    browser.wait_for("token-input")
    browser.screenshot("signin")
    browser.assert_no_console_errors()
    browser.sign_in("TRADER")
    browser.screenshot("signed-in")
    browser.assert_no_console_errors()


def test_dev_sign_in_token_paste_and_sign_out(gateway, browser):
    browser.open(gateway)
    browser.sign_in("ADMIN")
    assert browser.text("whoami") == "dev-admin · ADMIN"
    browser.click("signout")
    browser.wait_for("token-input")
    browser.wait_gone("whoami")
    # A forged token (right shape, wrong key) is refused by the gateway and the page says so;
    # a good one signs in.
    forged = make_jwt({"sub": "mallory", "role": "ADMIN", "exp": int(time.time()) + 600},
                      secret="not-the-gateway-secret-0123456789abcdefgh")
    browser.sign_in_with_token(forged)
    assert browser.wait_for("signin-error").text.strip(), "signin-error shows why"
    assert not browser.visible("whoami"), "a forged token must not sign in"
    browser.screenshot("signin-error")
    browser.sign_in_with_token(gateway.token("VIEWER", "paula"))
    assert browser.wait_signed_in("VIEWER") == "paula · VIEWER"
    browser.assert_no_console_errors(allow=(r"401", r"UNAUTHENTICATED", r"Unauthorized"))


def test_signal_reaches_the_table_within_2s(start_gateway, browser):
    gw = start_gateway(ENGINE_OFF)
    browser.open(gw)
    browser.sign_in("TRADER")
    browser.go("signals")
    browser.wait_for("signal-filter-market")
    first = record_signal(gw, "2026-01-01T00:00:00Z", 100)  # present before the page looks
    browser.reload()
    browser.wait_signed_in("TRADER")
    signal_row(browser, first)
    browser.driver.execute_script(WATCH_ROWS)
    t0 = time.time() * 1000
    new = record_signal(gw, "2026-01-01T01:00:00Z", 101.5, side="SELL")
    row = signal_row(browser, new, timeout=15)
    latency = browser.driver.execute_script("return window.__rowSeen[arguments[0]]", str(new)) - t0
    assert latency <= 2000, f"signal.created reached the table after {latency:.0f} ms (limit 2000)"
    print(f"signal.created → signal-row: {latency:.0f} ms")
    assert MARKET in row.text and "SELL" in row.text.upper(), row.text
    assert browser.all("weight-bar", within=row), "each signal-row has a weight-bar"
    ids = [el.get_attribute("data-signal-id") for el in browser.all("signal-row")]
    assert ids.index(str(new)) < ids.index(str(first)), f"newest first: {ids}"
    # The row opens its estimate, the same figures as the API's.
    browser.click_element(row)
    panel = browser.wait_for("estimate-panel")
    est = api(gw, f"/v1/positions/estimate?signal_id={new}")
    close_enough(number(browser.wait_for("estimate-size", within=panel).text), est["estimated_position_size"],
                 "estimate-size")
    close_enough(number(browser.wait_for("estimate-cost", within=panel).text), est["estimated_cost"],
                 "estimate-cost")
    browser.wait_for("estimate-allowed", within=panel)
    browser.screenshot("signals-estimate")
    browser.assert_no_console_errors()


def test_pipeline_position_in_portfolio_with_pnl(start_gateway, browser, tmp_path):
    gw = start_gateway(FAST_ENGINE)
    assert engine_wired(gw), "the live engine is not wired into bedrock serve"
    browser.open(gw)
    browser.sign_in("TRADER")
    browser.go("portfolio")
    browser.wait_for("account-balance")
    pos = replay_until_open(gw, tmp_path)
    # The row is found again at every use: live bars re-render the open positions while the
    # replay runs, so an element found a moment ago may be gone (stale).
    row_now = lambda: position_row(browser, pos["id"])  # noqa: E731
    browser.wait_until(lambda _: pos["market"] in row_now().text, f"{pos['market']} in the position row")
    pnl_text = browser.wait_until(
        lambda _: (lambda t: t if re.search(r"\d", t) else False)(browser.wait_for("position-pnl", within=row_now()).text),
        "a figure in position-pnl")
    close_enough(number(pnl_text), float(pos["unrealized_pnl"]), "position-pnl")
    account = api(gw, "/v1/account")
    browser.wait_until(lambda _: abs(number(browser.text("account-balance")) - float(account["balance"]))
                       <= max(0.01 * abs(float(account["balance"])), 0.011), "account-balance = the API's")
    for hook in ("account-available", "account-frozen", "account-equity"):
        number(browser.text(hook))
    closed = api(gw, "/v1/positions?status=CLOSED")["total"]
    if closed:
        browser.wait_for("closed-position-row")
        browser.wait_for("trade-row")
    browser.screenshot("portfolio")
    # The trader closes it from the page: it moves to the closed positions and the trades.
    browser.wait_until(lambda _: (lambda buttons: bool(buttons) and browser.click_element(buttons[0]))(
        browser.all("close-position", within=row_now())), "close-position in the open position's row (TRADER)")
    browser.accept_confirm()
    position_row(browser, pos["id"], "closed-position-row")
    browser.wait_until(lambda _: not any(el.get_attribute("data-position-id") == str(pos["id"])
                                         for el in browser.all("position-row")),
                       "the closed position to leave the open rows")
    assert api(gw, f"/v1/positions/{pos['id']}")["status"] == "CLOSED"
    browser.wait_for("trade-row")
    browser.screenshot("portfolio-closed")
    browser.assert_no_console_errors()


def test_backtest_report_and_exports(start_gateway, browser, tmp_path):
    gw = start_gateway(ENGINE_OFF)
    replay_bars(gw, tmp_path, 400, seed=11)
    browser.open(gw)
    browser.sign_in("TRADER")
    browser.go("backtest")
    form = browser.wait_for("backtest-form")
    select_option(browser, "bt-strategy", "sma_cross")
    select_option(browser, "bt-market", MARKET)
    browser.wait_for("bt-param-fast", within=form)
    browser.click("bt-submit")
    browser.wait_present("bt-progress")
    report = browser.wait_for("bt-report", timeout=90)
    assert not browser.visible("bt-error"), browser.visible("bt-error")[0].text
    metrics = browser.wait_for("bt-metrics", within=report)
    assert re.search(r"\d", metrics.text), metrics.text
    for chart in ("equity-chart", "drawdown-chart", "bt-trades"):
        browser.wait_for(chart)
    browser.screenshot("backtest-report")
    browser.click("bt-export-json")
    json_file = browser.wait_download(".json")
    exported = json.loads(json_file.read_text())
    task = re.search(r"(bt-[0-9A-Za-z]+)", json_file.name)
    assert task, f"export named {json_file.name}, expected backtest-<task id>.json"
    assert exported == api(gw, f"/v1/backtest/report/{task.group(1)}"), "the JSON export is the report"
    assert exported["strategy_name"] == "sma_cross" and exported["trades"], exported.get("trades")
    browser.click("bt-export-csv")
    csv_file = browser.wait_download(".csv")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    assert len(rows) == len(exported["trades"]), "one CSV row per trade"
    assert {"entry_time", "exit_time", "pnl"} <= set(rows[0]), rows[0].keys()
    browser.assert_no_console_errors()


def test_restart_reconnects_and_shows_missed_events(start_gateway, redis_server, browser):
    first = start_gateway(ENGINE_OFF)
    port = first.port
    before = record_signal(first, "2026-01-02T00:00:00Z", 200)
    browser.open(first)
    browser.sign_in("TRADER")
    browser.go("signals")
    signal_row(browser, before)
    browser.driver.execute_script(WATCH_CONN)
    assert first.stop(sig_mod.SIGTERM) == 0, first.log_text()
    browser.wait_conn_state("reconnecting", timeout=15)
    browser.screenshot("reconnecting")
    missed = record_signal(first, "2026-01-02T01:00:00Z", 201)  # Redis is still up
    second = start_gateway(ENGINE_OFF, redis=redis_server.url, port=port)
    assert second.port == port
    browser.wait_conn_state("connected", timeout=60)
    states = browser.driver.execute_script("return window.__connStates")
    assert states[0] == "connected" and "reconnecting" in states and states[-1] == "connected", states
    assert states.index("reconnecting") < len(states) - 1, states
    signal_row(browser, missed, timeout=20)
    live = record_signal(second, "2026-01-02T02:00:00Z", 202)
    signal_row(browser, live, timeout=10)
    ids = [el.get_attribute("data-signal-id") for el in browser.all("signal-row")]
    assert sorted(ids) == sorted(set(ids)), f"no duplicated row after the resume: {ids}"
    browser.screenshot("reconnected")
    browser.assert_no_console_errors(allow=OFFLINE_NOISE)


def test_viewer_sees_no_trading_controls(start_gateway, browser):
    gw = start_gateway(ENGINE_OFF)
    sid = record_signal(gw, "2026-01-03T00:00:00Z", 300)
    pid = open_position(gw, sid, 300)
    # The trader has the controls (so their absence below means something) but no kill switch.
    browser.open(gw)
    browser.sign_in("TRADER")
    browser.go("signals")
    signal_row(browser, sid)
    browser.wait_for("generate-signal")
    browser.go("portfolio")
    row = position_row(browser, pid)
    browser.wait_until(lambda _: browser.all("close-position", within=row), "close-position in the trader's row")
    browser.go("backtest")
    browser.wait_for("backtest-form")
    browser.go("risk")
    browser.wait_for("risk-state")
    browser.assert_absent("kill-switch")
    browser.click("signout")
    browser.sign_in("VIEWER")
    for view, shown in (("signals", "signal-row"), ("portfolio", "position-row"), ("backtest", None),
                        ("risk", "risk-state")):
        browser.go(view)
        if shown:
            browser.wait_for(shown)
        browser.assert_absent(*TRADING_CONTROLS)
        browser.screenshot(f"viewer-{view}")
    browser.assert_no_console_errors()


def test_admin_kill_switch_changes_the_risk_state(start_gateway, browser):
    gw = start_gateway(ENGINE_OFF)
    assert api(gw, "/v1/risk")["kill_switch"] is False
    browser.open(gw)
    browser.sign_in("ADMIN")
    browser.go("risk")
    browser.wait_for("risk-state")
    switch = browser.wait_for("kill-switch")
    assert switch.get_attribute("aria-pressed") == "false"
    browser.screenshot("risk-admin")
    alerts = len(browser.all("risk-alert"))
    for wanted in (True, False):
        browser.click("kill-switch")
        browser.accept_confirm()
        browser.wait_until(lambda _: api(gw, "/v1/risk")["kill_switch"] is wanted,
                           f"GET /v1/risk kill_switch={wanted} after the click")
        browser.wait_until(lambda _: browser.wait_for("kill-switch").get_attribute("aria-pressed")
                           == str(wanted).lower(), f"kill-switch aria-pressed={str(wanted).lower()}")
        if wanted:  # the change is announced on the risk topic and listed with the alerts
            browser.wait_until(lambda _: len(browser.all("risk-alert")) > alerts, "a risk-alert for the kill switch")
            browser.screenshot("risk-kill-switch-on")
    browser.assert_no_console_errors()


def test_production_mode_has_no_dev_sign_in(start_gateway, browser):
    gw = start_gateway({"mode": "production"})
    status, _, _ = gw.http("GET", "/dev/token")
    assert status == 404
    browser.open(gw)
    browser.wait_for("token-input")
    browser.assert_absent("dev-signin-VIEWER", "dev-signin-TRADER", "dev-signin-ADMIN")
    browser.screenshot("signin-production")
    browser.sign_in_with_token(gw.token("TRADER", "prod-user"))
    assert browser.wait_signed_in("TRADER") == "prod-user · TRADER"
    # The page's own probe of /dev/token gets the 404 (Chromium logs it as a failed resource).
    browser.assert_no_console_errors(allow=(r"/dev/token.*404",))


def test_theme_toggle_survives_reload(gateway, browser):
    browser.open(gateway)
    browser.sign_in("VIEWER")
    before = browser.theme()
    assert before in ("dark", "light"), f"<html data-theme> is {before!r}"
    browser.click("theme-toggle")
    flipped = {"dark": "light", "light": "dark"}[before]
    browser.wait_until(lambda _: browser.theme() == flipped, f"data-theme={flipped}")
    browser.screenshot(f"theme-{flipped}")
    browser.reload()
    browser.wait_signed_in("VIEWER")
    assert browser.theme() == flipped, "the theme survives a reload"
    browser.click("theme-toggle")
    browser.wait_until(lambda _: browser.theme() == before, f"data-theme={before} again")
    browser.assert_no_console_errors()


def view_ready(b: Browser, view: str) -> None:
    """Waits for what each view shows on the seeded ledger and the replayed market."""
    if view == "signals":
        b.wait_for("signal-row")
    elif view == "portfolio":
        b.wait_for("position-row")
        b.wait_for("account-equity")
    elif view == "market":
        select_option(b, "market-select", MARKET)
        chart = b.wait_for("candle-chart")
        b.wait_until(lambda _: len(b.all("candle", within=chart)) >= 20, "candles in candle-chart")
        b.wait_until(lambda _: b.all("signal-marker", within=chart), "a signal-marker on the chart")
    elif view == "backtest":
        b.wait_for("backtest-form")
    elif view == "models":
        b.wait_until(lambda _: b.visible("models-empty") or b.visible("model-version"),
                     "the models list or its empty state")
    elif view == "risk":
        b.wait_for("risk-state")
        b.wait_for("kill-switch")


def test_every_view_fits_desktop_and_phone_width(start_gateway, make_browser, tmp_path):
    gw = start_gateway(ENGINE_OFF)
    csv_path = replay_bars(gw, tmp_path, 200, seed=3)
    bar_times = [line.split(",", 1)[0] for line in csv_path.read_text().splitlines()[1:]]
    closes = [float(line.split(",")[4]) for line in csv_path.read_text().splitlines()[1:]]
    for i in (-12, -6):  # two signals on recent bars of the charted market, one opened
        sid = record_signal(gw, bar_times[i], closes[i])
    open_position(gw, sid, closes[-6])
    problems: list[str] = []  # every view is visited and photographed even when one fails
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        b = make_browser(size, label)
        b.open(gw)
        b.wait_for("dev-signin-ADMIN")
        width, inner = b.horizontal_overflow()
        b.screenshot("signin")
        if width > inner:
            problems.append(f"[{label}] sign-in overflows: body {width}px > window {inner}px: {b.overflowing()}")
        b.sign_in("ADMIN")
        for view in VIEWS:
            try:
                b.go(view)
                view_ready(b, view)
            except AssertionError as e:
                problems.append(f"[{label}] {view}: {str(e).splitlines()[0]}")
            width, inner = b.horizontal_overflow()
            b.screenshot(view)
            if width > inner:
                problems.append(f"[{label}] {view} overflows: body {width}px > window {inner}px: "
                                f"{b.overflowing()}")
        problems += [f"[{label}] console: {m}" for m in b.severe()]
    assert not problems, "\n".join(problems)
