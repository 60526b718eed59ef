#!/usr/bin/env python3
"""The dashboard with a full ledger (SPEC §15 targets): the signals view interactive < 1 s after
sign-in with 10,000 signals stored, and no long task over 100 ms while 2 events/s stream in.

A fresh redis-server and gateway (dev mode); `--signals` signal records written into the ledger's
keys (docs/REDIS_LAYOUT.md: `signal:{id}` hashes and the `signals:index` / `signals:market:*`
sorted sets, as `record_signal.lua` writes them); headless Chromium (selenium, as the dashboard
tests) with a `longtask` PerformanceObserver installed before the page's own scripts.

- interactive: from the click on the dev sign-in button until the signals view shows its rows
  and its total, and a click on a row opens the estimate panel;
- streaming: `--seconds` of `signal.created` events at `--rate` per second (each with its stored
  record), long tasks counted over that window.

    python3 loadtest/dashboard-signals.py [--bin .build/release/bedrock] [--signals 10000]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_bench import REPO, Stack, machine, percentiles  # noqa: E402

sys.path.insert(0, str(REPO / "tests" / "integration"))
from browser import Browser  # noqa: E402

PREFIX = "bedrock:"
MARKETS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"]
OBSERVER = """
window.__longtasks = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]); })
  .observe({ type: 'longtask', buffered: true });
"""


def signal_fields(i: int, rng: random.Random) -> list[str]:
    market = MARKETS[i % len(MARKETS)]
    side = "BUY" if rng.random() < 0.7 else "SELL"
    price = 100 + rng.random() * 50
    stop = price * (0.97 if side == "BUY" else 1.03)
    target = price * (1.06 if side == "BUY" else 0.94)
    t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + 3600 * i))
    approved = rng.random() < 0.4
    return ["id", str(i), "market", market, "interval", "1h", "strategy", "pullback" if side == "BUY" else "oops",
            "signal_type", "PULLBACK_BUY" if side == "BUY" else "OOPS_SELL", "side", side,
            "entry_price", f"{price:.4f}", "stop_loss_price", f"{stop:.4f}", "profit_target_price", f"{target:.4f}",
            "risk_unit_r", f"{abs(price - stop):.4f}", "suggested_position_weight", "0.6",
            "rule_engine_score", str(rng.randint(40, 95)), "final_decision", "APPROVED" if approved else "REJECTED",
            "explanation", f"pullback on {market}: combined score, threshold 60", "bar_time", t, "created_at", t,
            "config_version", "0"]


def store(stack: Stack, first: int, count: int, rng: random.Random) -> list[dict]:
    """Writes signals first..first+count-1 and returns their event payloads."""
    commands, events = [], []
    for i in range(first, first + count):
        fields = signal_fields(i, rng)
        commands.append(["HSET", f"{PREFIX}signal:{i}", *fields])
        commands.append(["ZADD", f"{PREFIX}signals:index", str(i), str(i)])
        commands.append(["ZADD", f"{PREFIX}signals:market:{fields[3]}", str(i), str(i)])
        record = dict(zip(fields[::2], fields[1::2]))
        events.append({"event_type": "signal.created", "schema_version": "2.0", "timestamp": record["created_at"],
                       **{k: (float(v) if k.endswith(("_price", "_r", "_weight", "_score")) else
                              int(v) if k in ("id", "config_version") else v) for k, v in record.items()}})
    commands.append(["SET", f"{PREFIX}seq:signal", str(first + count - 1)])
    for at in range(0, len(commands), 3000):
        stack.r.pipeline(commands[at:at + 3000])
    return events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(REPO / ".build" / "release" / "bedrock"))
    ap.add_argument("--signals", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=2.0, help="events per second while streaming")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=3, help="sign-ins measured")
    args = ap.parse_args()
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="dash-signals-"))
    stack = Stack(args.bin, work, None, {"engine": {"strategies": []}})
    browser = None
    try:
        store(stack, 1, args.signals, rng)
        browser = Browser(work / "downloads", (1440, 900), "desktop", "bench")
        browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER})

        class Target:  # what Browser.open needs of a gateway
            scheme, port = "http", stack.port

        interactive: list[float] = []
        for _ in range(args.runs):
            browser.open(Target, "/")
            browser.driver.execute_script("localStorage.clear(); sessionStorage.clear();")
            browser.reload()
            t0 = time.monotonic()
            browser.sign_in("VIEWER")
            if not browser.driver.execute_script("return location.hash").startswith("#/signals"):
                browser.go("signals")
            browser.wait_until(lambda d: browser.visible("signal-row"), "signal rows", poll=0.01)
            browser.visible("signal-row")[0].click()
            browser.wait_until(lambda d: browser.visible("estimate-panel"), "the estimate panel", poll=0.01)
            interactive.append(time.monotonic() - t0)
        shown_total = " ".join(el.text for el in browser.visible("signal-count"))

        browser.driver.execute_script("window.__longtasks = [];")
        events = store(stack, args.signals + 1, int(args.rate * args.seconds), rng)
        start = time.monotonic()
        for n, event in enumerate(events):
            due = start + n / args.rate
            time.sleep(max(0.0, due - time.monotonic()))  # the pace of the stream, not a wait for a condition
            stack.r.execute("XADD", f"{PREFIX}stream:signals", "*", "event", json.dumps(event))
        time.sleep(1.0)  # the last event's rendering
        tasks = browser.driver.execute_script("return window.__longtasks")
        durations = [d for _, d in tasks]
        print(json.dumps({
            "machine": machine(),
            "binary": args.bin, "signals_stored": args.signals, "signal_count_shown": shown_total,
            "interactive_after_sign_in_s": {k: round(v, 3) if isinstance(v, float) else v
                                            for k, v in percentiles(interactive).items()},
            "streamed_events": len(events), "rate_per_s": args.rate,
            "long_tasks_while_streaming": len(durations),
            "longest_task_ms": round(max(durations), 1) if durations else 0,
            "long_tasks_over_100ms": sum(1 for d in durations if d > 100),
        }, indent=2))
    finally:
        if browser is not None:
            browser.quit()
        stack.stop()


if __name__ == "__main__":
    main()
