"""Runs one fake exchange or the fake LLM server as its own process, for tests that cannot import
it (XCTest, a shell):

    python -m fakes llm [--default-text TEXT]
    python -m fakes binance|bybit [--seed N] [--now-ms T | --wall-clock [--pump-s S]]
                                  [--weight-limit W] [--limit-per-s L] [--ping-interval-s P]
                                  [--tls CERT KEY]

(from tests/integration, or with it on PYTHONPATH). Prints one JSON line
`{"exchange", "http_url", "ws_url", "control"}` (the LLM: `{"llm", "http_url", "base_url",
"control"}`) on stdout, then serves until stdin closes or
SIGTERM/SIGINT. The control API is reachable over HTTP on the same port:
`GET /__control/<method>?arg=value` (e.g. `/__control/advance?ms=60000`,
`/__control/drop_connections?refuse_for_ms=5000`,
`/__control/corrupt_bar?symbol=BTCUSDT&interval=1m&open_time=...&high=1.5`) answers
`{"result": ...}`, or 400/404 `{"error": ...}`. The LLM's methods are in llm.py
(`/__control/answer?text=...`, `/__control/fail?status=429&retry_after=3`, `/__control/requests`).
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import sys
import threading

from .binance import FakeBinance
from .bybit import FakeBybit
from .clock import WallClock
from .llm import FakeLLM


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes", description=__doc__.splitlines()[0])
    parser.add_argument("exchange", choices=["binance", "bybit", "llm"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now-ms", type=int, default=None, help="start time of the manual clock")
    parser.add_argument("--wall-clock", action="store_true", help="follow real time (pushes every --pump-s)")
    parser.add_argument("--pump-s", type=float, default=1.0)
    parser.add_argument("--weight-limit", type=int, default=6000, help="binance: REQUEST_WEIGHT per minute")
    parser.add_argument("--limit-per-s", type=int, default=20, help="bybit: calls per second")
    parser.add_argument("--ping-interval-s", type=float, default=20, help="binance: server ping period")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve https:// and wss:// (PEM files)")
    parser.add_argument("--default-text", default="NEUTRAL: no news", help="llm: the answer once the script is used up")
    args = parser.parse_args(argv)
    if args.exchange == "llm":
        llm = FakeLLM(default_text=args.default_text)
        llm.control_routes = True
        llm.start()
        ready = {"llm": "openai", "http_url": llm.http_url, "base_url": llm.base_url,
                 "control": llm.http_url + "/__control/"}
        _serve_until_stopped(ready)
        llm.stop()
        return 0

    common = {"seed": args.seed}
    if args.wall_clock:
        common["clock"] = WallClock()
    elif args.now_ms is not None:
        common["now_ms"] = args.now_ms
    if args.exchange == "binance":
        fake = FakeBinance(weight_limit=args.weight_limit, ping_interval_s=args.ping_interval_s, **common)
    else:
        fake = FakeBybit(limit_per_s=args.limit_per_s, **common)
    fake.control_routes = True
    if args.tls:
        fake.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        fake.ssl_context.load_cert_chain(*args.tls)
    fake.start()
    if args.wall_clock:
        fake.start_pump(args.pump_s)
    _serve_until_stopped({"exchange": args.exchange, "http_url": fake.http_url,
                          "ws_url": fake.spot_ws_url if args.exchange == "bybit" else fake.ws_url,
                          "control": fake.http_url + "/__control/"})
    fake.stop()
    return 0


def _serve_until_stopped(ready: dict) -> None:
    """Prints the ready line, then waits until stdin closes or SIGTERM/SIGINT arrives.
    A signal handler must not touch `done`: it runs on the main thread, possibly inside
    `done.wait()` while that holds the event's lock, and `done.set()` there deadlocks. It raises
    instead, which ends the wait. Both ways to stop are in place before the ready line."""
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop_on_signal)
    try:
        print(json.dumps(ready), flush=True)
        done.wait()
    except _Stop:
        pass
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)  # stopping already


class _Stop(Exception):
    """Raised by the SIGTERM/SIGINT handler to end the main thread's wait."""


def _stop_on_signal(*_) -> None:
    raise _Stop


if __name__ == "__main__":
    sys.exit(main())
