#!/usr/bin/env python3
"""From `POST /v1/publish` to the event reaching a subscriber (the integrator API's publish,
docs/BENCHMARKS.md): one WebSocket client subscribed to `--topic` stamps each event's arrival
against the wall-clock time in its `data.sent_ns`, stamped by this script's publisher just before
it sent the request (one keep-alive HTTP connection, `--rate` requests/s). Run it alone, or next to
`wrk -s loadtest/wrk/publish.lua` (which publishes to another topic) to measure under load. Prints
one line `publish-event: ...` with the event and request latencies (ms), and `--json` writes them.

    loadtest/publish-latency.py --port P --token ADMIN_JWT [--rate 200] [--duration 10] [--topic signals]
"""
import argparse
import http.client
import json
import threading
import time

from websockets.sync.client import connect


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True, help="an ADMIN JWT (it publishes and subscribes)")
    ap.add_argument("--topic", default="signals")
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    with connect(f"ws://127.0.0.1:{args.port}/ws?token={args.token}", subprotocols=["bedrock.v1"],
                 compression=None, ping_interval=None, max_size=None, open_timeout=5) as ws:
        res = measure(ws, args)
    print("publish-event: " + " ".join(f"{k.replace(' ', '_')}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                                       for k, v in res.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"scenario": "publish-latency", "parameters": vars(args) | {"token": "(ADMIN JWT)"},
                       "results": res, "units": {k: "ms" for k in res if " p" in k or k.endswith("max")}}, f, indent=2)


def measure(ws, args) -> dict:
    """Publishes at the rate for the duration while `ws` (subscribed here) times the events."""
    events: list[float] = []
    ws.recv(5)  # welcome
    ws.send(json.dumps({"type": "subscribe", "id": 1, "topic": args.topic}))
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                text = ws.recv(0.5)
            except TimeoutError:
                continue
            except Exception:
                return
            now = time.time_ns()
            for line in text.split("\n"):
                frame = json.loads(line)
                if frame.get("type") == "ping":
                    ws.send('{"type":"pong"}')
                sent = frame.get("data", {}).get("sent_ns") if frame.get("type") == "event" else None
                if sent:
                    events.append((now - sent) / 1e6)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.3)  # subscribed
    http_conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
    requests: list[float] = []
    failures = 0
    interval = 1 / args.rate
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < args.duration:
        due = start + n * interval
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        sent = time.time_ns()
        body = json.dumps({"topic": args.topic, "data": {"event_type": "probe", "sent_ns": sent}})
        http_conn.request("POST", "/v1/publish", body, headers)
        resp = http_conn.getresponse()
        resp.read()
        requests.append((time.time_ns() - sent) / 1e6)
        failures += resp.status != 200
        n += 1
    deadline = time.monotonic() + 5
    while len(events) < n - failures and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    reader.join(2)
    return {"published": n, "failures": failures, "received": len(events),
            "event p50": pct(events, 50), "event p90": pct(events, 90), "event p99": pct(events, 99),
            "event max": max(events, default=float("nan")),
            "request p50": pct(requests, 50), "request p99": pct(requests, 99)}


if __name__ == "__main__":
    main()
