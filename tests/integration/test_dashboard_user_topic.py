"""The dashboard follows the signed-in user's own topic (`user`, SPEC §14) in headless Chromium on
the real gateway: a backtest the same user submits over REST shows "Backtest <id> completed" in
the page (and the open backtest history lists it without a reload), a position they open by hand
over REST shows "Position #<id> <market> opened by hand", and an administrator's notice
published to `user:<sub>` shows its message (and, with the bell on, a browser notification); a
backtest run from the page's own form, or a position opened from its manual entry, is toasted
once, not twice.
"""

from __future__ import annotations

import json
import time

from browser import Browser
from helpers import make_jwt
from test_dashboard import ENGINE_OFF, record_signal, replay_bars, signal_row
from test_dashboard_fixes import run_backtest
from test_engine import FAST
from test_dashboard_status import FAKE_NOTIFICATION, notes
from test_engine_config import dataset, wait_job  # noqa: F401 - `dataset` is a fixture
from test_manual_entry import kline, open_position

SUB = "trader-ut"


def rest(gw, path: str, role: str, body: dict) -> tuple[int, dict]:
    token = make_jwt({"sub": SUB if role == "TRADER" else "ops", "role": role, "exp": int(time.time()) + 600})
    status, _, raw = gw.http("POST", path, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                             json.dumps(body).encode(), timeout=10)
    return status, json.loads(raw) if raw else {}


def toast_with(b: Browser, text: str) -> str:
    """Waits for a toast containing `text` (toasts last 4 s; the wait polls every 0.1 s)."""
    def found(_):
        return next((t for t in (el.text for el in b.visible("toast")) if text in t), False)
    return b.wait_until(found, f"a toast with {text!r}")


def test_user_topic_events_show_in_the_page(start_gateway, make_browser, dataset):  # noqa: F811
    gw = start_gateway({**FAST, "jobs": {"data_dir": str(dataset)}})
    b = make_browser()
    b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_NOTIFICATION})
    b.open(gw)
    b.sign_in_with_token(make_jwt({"sub": SUB, "role": "TRADER", "exp": int(time.time()) + 600}))
    b.wait_signed_in("TRADER")
    b.click("notify-toggle")
    b.wait_until(lambda _: b.wait_for("notify-toggle").get_attribute("aria-pressed") == "true", "the bell on")
    b.go("history")
    b.wait_for("history-empty")
    # The page's subscription to `user` is in place before anything is sent to it.
    gw.metrics_with('bedrock_presence_connections{topic="user"} 1')

    status, job = rest(gw, "/v1/backtest/submit", "TRADER", {"strategy": "sma_cross", "dataset": "wave-1h.csv"})
    assert status == 200, job
    task = job["task_id"]
    assert wait_job(gw, task)["status"] == "COMPLETED"
    assert toast_with(b, f"Backtest {task} completed")
    # The history view, open all along, lists the job without a reload.
    b.wait_until(lambda _: any(r.get_attribute("data-task-id") == task and r.get_attribute("data-status") == "COMPLETED"
                               for r in b.visible("history-row")), f"the history row of {task}")

    gw.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 0, 99, 101, 98, 100))
    status, position = open_position(gw, {"market": "BTCUSDT", "side": "BUY", "stop_loss_price": 95}, sub=SUB)
    assert status == 200, position
    assert toast_with(b, "by hand") == f"Position #{position['id']} BTCUSDT opened by hand"

    status, answer = rest(gw, "/v1/publish", "ADMIN", {"topic": f"user:{SUB}",
                                                      "data": {"event_type": "notice", "message": "Maintenance at 18:00", "from": "ops"}})
    assert status == 200, answer
    assert toast_with(b, "Maintenance at 18:00") == "Notice from ops: Maintenance at 18:00"
    b.wait_until(lambda _: len(notes(b)) >= 3, "three browser notifications")
    # The manual open is notified once, as the fill (topic `portfolio`), not again from `user`.
    assert sorted(n["title"] for n in notes(b)) == [f"Backtest {task} completed", "Notice from ops: Maintenance at 18:00",
                                                    "Position opened · BTCUSDT"]
    b.screenshot("user-notice")
    b.assert_no_console_errors()


TOAST_LOG = """
window.__toasts = [];
new MutationObserver((changes) => {
  for (const c of changes) for (const n of c.addedNodes) if (n.nodeType === 1 && n.dataset.testid === 'toast') window.__toasts.push(n.textContent);
}).observe(document, { childList: true, subtree: true });
"""


def after_the_event(gw, sub: str, b: Browser) -> None:
    """Publishes a job's end to `sub`'s stream after what is there, and waits for its toast (shown
    after the same settling wait): then every earlier event has been handled."""
    status, answer = rest(gw, "/v1/publish", "ADMIN", {"topic": f"user:{sub}", "data": {
        "event_type": "job.completed", "task_id": "bt-after", "kind": "backtest", "status": "COMPLETED"}})
    assert status == 200, answer
    toast_with(b, "Backtest bt-after completed")


def test_a_backtest_run_in_the_page_is_toasted_once(start_gateway, make_browser, tmp_path):
    gw = start_gateway(ENGINE_OFF)
    replay_bars(gw, tmp_path, 400, seed=11)
    b = make_browser()
    for script in (FAKE_NOTIFICATION, TOAST_LOG):
        b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})
    b.open(gw)
    b.sign_in("TRADER")
    b.click("notify-toggle")
    b.wait_until(lambda _: b.wait_for("notify-toggle").get_attribute("aria-pressed") == "true", "the bell on")
    gw.metrics_with('bedrock_presence_connections{topic="user"} 1')
    run_backtest(gw, b)
    b.wait_for("bt-report", timeout=90)
    note = b.wait_until(lambda _: next((n["title"] for n in notes(b) if n["title"].endswith(" completed")), False),
                        "the job's browser notification")
    after_the_event(gw, "dev-trader", b)
    toasts = [t for t in b.driver.execute_script("return window.__toasts") if t.endswith(" completed") and "bt-after" not in t]
    assert toasts == [note], toasts
    b.assert_no_console_errors()


def test_a_position_opened_in_the_page_is_toasted_once(start_gateway, make_browser, tmp_path):
    gw = start_gateway(ENGINE_OFF)
    csv_path = replay_bars(gw, tmp_path, 200, seed=5)
    last = csv_path.read_text().splitlines()[-1].split(",")
    sid = record_signal(gw, last[0], float(last[4]))
    b = make_browser()
    b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TOAST_LOG})
    b.open(gw)
    b.sign_in("TRADER")
    gw.metrics_with('bedrock_presence_connections{topic="user"} 1')
    b.click_element(signal_row(b, sid))
    b.click("manual-open")
    assert b.accept_confirm()
    b.wait_for("manual-opened")
    position_id = b.wait_present("manual-result").get_attribute("data-position-id")
    after_the_event(gw, "dev-trader", b)
    toasts = [t for t in b.driver.execute_script("return window.__toasts") if f"#{position_id} " in t and "opened" in t]
    assert len(toasts) == 1, toasts
    b.assert_no_console_errors()
