#!/usr/bin/env python3
"""A headline burst against a gateway with an LLM provider (docs/LLM.md, "Measurements"):
`--headlines` (1,000) headlines for `--markets` (10) markets within `--seconds` (10) through
`POST /v1/news`, the fake OpenAI server (tests/integration/fakes/llm.py, in this process)
answering every sentiment call after `--delay` seconds. Prints:

- per burst (`--bursts`, 2, each watched `--observe` seconds, 60, from its first headline): the
  LLM calls the fake received, by coalescing window (`llm.batch_window_s`, 5 s, counted from the
  first headline) and per market; the gateway's RSS before, at its peak (sampled every 100 ms)
  and at the end; the `news.published` entries stored (every headline must be) and failed POSTs;
- `GET /v1/sentiment?market=M` answered from the cache, end to end: a Python keep-alive loop
  (`--reads`) and, when `wrk` is installed, `wrk -t1 -c1 -d5s` and `-t2 -c20 -d5s`.

    loadtest/llm-news-burst.py [--bin /tmp/llm-bin/bedrock] [--headlines 1000] [--markets 10] [--seconds 10]
                               [--delay 0.5] [--bursts 2] [--observe 60] [--reads 2000]
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from llm_bench import Stack, TimedFakeLLM, call, percentiles, rss_kib

MARKETS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "BNBUSDT", "ADAUSDT", "DOGEUSDT", "TRXUSDT", "DOTUSDT",
           "LTCUSDT", "LINKUSDT", "AVAXUSDT"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="/tmp/llm-bin/bedrock")
    ap.add_argument("--headlines", type=int, default=1000)
    ap.add_argument("--markets", type=int, default=10, choices=range(1, len(MARKETS) + 1))
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--delay", type=float, default=0.5, help="the fake's answer time, seconds")
    ap.add_argument("--reads", type=int, default=2000, help="GET /v1/sentiment in the Python loop")
    ap.add_argument("--observe", type=float, default=60, help="seconds from a burst's first headline to its counts")
    ap.add_argument("--bursts", type=int, default=2, help="bursts in a row (the first warms the gateway up)")
    a = ap.parse_args()
    markets = MARKETS[:a.markets]
    work = Path(tempfile.mkdtemp(prefix="llm-news-burst-"))
    fake = TimedFakeLLM().start()
    fake.answer("POSITIVE: the bench headlines favour buyers", delay_s=a.delay, times=100000)
    stack = Stack(a.bin, work, fake)
    try:
        trader, viewer = stack.token("TRADER"), stack.token("VIEWER")
        time.sleep(2)
        print(f"binary {a.bin}; {a.headlines} headlines for {len(markets)} markets in {a.seconds:.0f} s, "
              f"{a.bursts} burst(s) {a.observe:.0f} s apart; the fake answers after {a.delay} s")
        for n in range(a.bursts):
            burst(stack, fake, trader, markets, a, n)
        print("\n".join(line for line in stack.metrics("bedrock_llm_") if not line.endswith(" 0")))
        read(stack, viewer, markets, a.reads)
    finally:
        stack.stop()
        fake.stop()


def burst(stack: Stack, fake: TimedFakeLLM, trader: str, markets: list[str], a, n: int) -> None:
    """One burst of `a.headlines` headlines in `a.seconds`, then `a.observe` seconds of watching."""
    window = 5.0  # llm.batch_window_s
    pid = stack.gateway.pid
    before = rss_kib(pid)
    stored_before = published(stack)
    seen = len(fake.requests())
    samples: list[int] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            samples.append(rss_kib(pid))
            sampling.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    failed = 0
    conn = stack.connection()
    t0 = time.monotonic()
    for i in range(a.headlines):
        due = t0 + i * a.seconds / a.headlines
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        m = markets[i % len(markets)]
        status, _ = call(conn, "POST", "/v1/news", trader,
                         {"market": m, "title": f"Bench headline {n}.{i} about {m}: volumes rise",
                          "body": "x" * 200, "source": "bench", "url": f"https://example.com/{n}/{i}"})
        failed += status != 200
    sent_in = time.monotonic() - t0
    time.sleep(max(0.0, t0 + a.observe - time.monotonic()))
    sampling.set()
    sampler.join()
    after = rss_kib(pid)
    records = fake.requests()[seen:]
    by_window: dict[int, int] = {}
    per_market: dict[str, int] = {}
    for r in records:
        w = int((r["at"] - t0) // window)
        by_window[w] = by_window.get(w, 0) + 1
        text = " ".join(str(msg.get("content", "")) for msg in r["body"].get("messages", []))
        if found := re.search(r"Market: (\S+)", text):
            per_market[found.group(1)] = per_market.get(found.group(1), 0) + 1
    print(f"burst {n + 1}: sent in {sent_in:.2f} s, {failed} POSTs failed; news.published stored "
          f"{published(stack) - stored_before} of {a.headlines}")
    print(f"  LLM calls in {a.observe:.0f} s: {len(records)}; by {window:.0f}-s window from the first headline: "
          + ", ".join(f"[{w * window:.0f},{(w + 1) * window:.0f}) {c}" for w, c in sorted(by_window.items())))
    print(f"  calls per market: {dict(sorted(per_market.items()))}")
    print(f"  gateway RSS: before {before} KiB, peak {max(samples)} KiB, after {after} KiB "
          f"({(after - before) / before * 100:+.1f} %)")


def published(stack: Stack) -> int:
    """`news.published` entries in the news stream (it also carries `sentiment.updated`)."""
    return sum(1 for _, fields in stack.r.xrange("bedrock:stream:news")
               if json.loads(fields["event"]).get("event_type") == "news.published")


def read(stack: Stack, viewer: str, markets: list[str], reads: int) -> None:
    """GET /v1/sentiment from the cache: a keep-alive Python loop, then wrk if there is one."""
    conn = stack.connection()
    sources: dict[str, int] = {}
    times = []
    for i in range(reads):
        t = time.perf_counter()
        status, body = call(conn, "GET", f"/v1/sentiment?market={markets[i % len(markets)]}", viewer)
        times.append((time.perf_counter() - t) * 1000)
        sources[f"{status} {body.get('source') if body else None}"] = sources.get(
            f"{status} {body.get('source') if body else None}", 0) + 1
    p = percentiles(times)
    print(f"GET /v1/sentiment, Python keep-alive loop: n={p['n']} p50={p['p50']:.3f} ms p90={p['p90']:.3f} ms "
          f"p99={p['p99']:.3f} ms max={p['max']:.3f} ms; answers {sources}")
    if not os.path.exists("/usr/bin/wrk"):
        return
    script = Path(stack.work) / "sentiment.lua"
    script.write_text(f'wrk.method = "GET"\nwrk.path = "/v1/sentiment?market={markets[0]}"\n'
                      f'wrk.headers["Authorization"] = "Bearer {viewer}"\n')
    for threads, connections in ((1, 1), (2, 20)):
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", "-d5s", "--latency", "-s", str(script),
                              f"http://127.0.0.1:{stack.port}"], capture_output=True, text=True).stdout
        rate = re.search(r"Requests/sec:\s+(\S+)", out)
        lat = {k: v for k, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M)}
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(f"wrk -t{threads} -c{connections} -d5s: {rate.group(1) if rate else '?'} req/s, p50 {lat.get('50')} "
              f"p90 {lat.get('90')} p99 {lat.get('99')}, non-2xx {non2xx.group(1) if non2xx else 0}")


if __name__ == "__main__":
    main()
