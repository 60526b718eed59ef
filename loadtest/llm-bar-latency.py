#!/usr/bin/env python3
"""Added latency on the bar path with a slow or dead model (docs/LLM.md, "Measurements"): the same
bars through a fresh gateway with no LLM provider, with the fake OpenAI server answering after
`--delay` seconds (5), and with the fake never answering (calls end at `llm.timeout_s`, 30 s), in
one run so the ratios are comparable; and "control": no provider, but the fake server running in
this script's process as in "slow" (on a 2-vCPU machine the fake alone moves the latency: compare
the model scenarios with the control, not with "none").

    loadtest/llm-bar-latency.py [--bin /tmp/llm-bin/bedrock] [--bars 1200] [--rate 20] [--delay 5]
                                [--rounds 1] [--only none,control,slow,hang] [--llm-weight 0]

Each scenario: a fresh redis-server and gateway; headlines for both markets every 6 s (`POST
/v1/news`, so sentiment calls keep being made: each signal reads its market's sentiment, and with a
provider each signal also asks for an explanation); then
- latency: the first 300 bars of BTCUSDT and ETHUSDT 1h replayed as history (`--fast-first`:
  they warm the strategies up, untraded) and processed, then the rest at `--speed RATE`; per
  signal, the time from its bar's append to the kline stream to the `signal.created` append to
  the signals stream (both entry ids are Redis' clock, in ms; the mean of those whole
  milliseconds is the sub-millisecond figure, bars not being appended on millisecond boundaries);
- throughput: the same two files replayed at speed 0 as two more markets, bars/s from the start of
  the replays until every bar is acknowledged.

`arbiter.llm_weight` is 0 unless `--llm-weight` says otherwise: the sentiment is read and recorded
on every signal but weighs nothing, so all three scenarios trade alike (the signal and position
counts printed must match) and the differences are the LLM layer's own cost.
"""
import argparse
import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from llm_bench import FakeLLM, Stack, call, percentiles

FILES = {"BTCUSDT": "BTCUSDT-1h.csv", "ETHUSDT": "ETHUSDT-1h.csv"}
THROUGHPUT = {"SOLUSDT": "BTCUSDT-1h.csv", "XRPUSDT": "ETHUSDT-1h.csv"}
HISTORY = 300


def kline_key(market: str) -> str:
    return f"bedrock:stream:klines:{market}:1h"


def processed(stack: Stack, markets, bars: int) -> bool:
    for m in markets:
        try:
            groups = stack.r.execute("XINFO", "GROUPS", kline_key(m))
        except Exception:  # noqa: BLE001 - stream not there yet
            return False
        if not groups:
            return False
        g = dict(zip(groups[0][0::2], groups[0][1::2]))
        if int(g["pending"]) or int(g.get("entries-read") or 0) < bars:
            return False
    return True


def replay(stack: Stack, sample: Path, markets: dict, speed: float, fast_first: int | None) -> list:
    extra = ["--fast-first", str(fast_first)] if fast_first else []
    return [subprocess.Popen([stack.binary, "replay", "--data", str(sample / f), "--market", m, "--interval", "1h",
                              "--speed", str(speed), "--redis", stack.url, *extra], cwd=stack.work, env=stack.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for m, f in markets.items()]


def bar_latencies(stack: Stack) -> list[float]:
    """ms from each signal's bar append to the signal's append (both Redis entry ids)."""
    appended: dict[tuple[str, str], int] = {}
    for m in FILES:
        for entry_id, fields in stack.r.xrange(kline_key(m)):
            bar = fields_event(fields)
            if not bar.get("backfill"):
                appended[(m, bar["open_time"])] = int(entry_id.split("-")[0])
    out = []
    for entry_id, fields in stack.r.xrange("bedrock:stream:signals"):
        signal = fields_event(fields)
        if signal.get("event_type") != "signal.created":
            continue
        hit = appended.get((signal["market"], signal["bar_time"]))
        if hit is not None:
            out.append(int(entry_id.split("-")[0]) - hit)
    return out


def fields_event(fields) -> dict:
    return json.loads(fields["event"])


def scenario(kind: str, a, sample: Path, work: Path) -> dict:
    fake = None
    if kind != "none":
        fake = FakeLLM(default_text="NEUTRAL: bench").start()
        if kind in ("slow", "control"):
            fake.answer("POSITIVE: the bench headline", delay_s=a.delay, times=20000)
        else:
            fake.hang(times=20000)
    # "control": no provider, but the fake runs in this process as in "slow" (it shares the CPUs).
    stack = Stack(a.bin, work, None if kind == "control" else fake, {"arbiter": {"llm_weight": a.llm_weight}})
    stop = threading.Event()
    try:
        trader = stack.token("TRADER")

        def news() -> None:
            n = 0
            while not stop.is_set():
                conn = stack.connection()
                for m in [*FILES, *THROUGHPUT]:
                    n += 1
                    status, _ = call(conn, "POST", "/v1/news", trader,
                                     {"market": m, "title": f"Headline {n} on {m}", "source": "bench"})
                    if status != 200:
                        print(f"POST /v1/news: HTTP {status}", flush=True)
                        return
                conn.close()
                stop.wait(6)

        poster = threading.Thread(target=news, daemon=True)
        poster.start()
        time.sleep(1)
        for f in replay(stack, sample / "history", FILES, 0, HISTORY):
            f.wait()
        while not processed(stack, FILES, HISTORY):
            time.sleep(0.05)
        for f in replay(stack, sample, FILES, a.rate, None):  # resumes after the history
            f.wait()
        deadline = time.monotonic() + 120
        while not processed(stack, FILES, a.bars) and time.monotonic() < deadline:
            time.sleep(0.05)
        samples = bar_latencies(stack)
        latency = percentiles(samples)
        latency["mean"] = sum(samples) / len(samples) if samples else 0
        t0 = time.monotonic()
        feeds = replay(stack, sample, THROUGHPUT, 0, None)
        while not processed(stack, THROUGHPUT, a.bars):
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        for f in feeds:
            f.wait()
        llm = [line for line in stack.metrics("bedrock_llm_requests_total") if not line.endswith(" 0")]
        trading = f"signals {stack.r.execute('GET', 'bedrock:seq:signal')}, " \
                  f"positions {stack.r.execute('GET', 'bedrock:seq:position')}"
        return {"kind": kind, "latency": latency, "bars_per_s": len(THROUGHPUT) * a.bars / elapsed, "trading": trading,
                "llm_calls": fake.request_count() if fake else 0, "llm_metrics": llm}
    finally:
        stop.set()
        stack.stop()
        if fake:
            fake.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="/tmp/llm-bin/bedrock")
    ap.add_argument("--bars", type=int, default=1200, help="bars per market (history included)")
    ap.add_argument("--rate", type=float, default=20, help="live bars per second per market")
    ap.add_argument("--delay", type=float, default=5, help="the slow model's answer time, seconds")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the three scenarios, alternating")
    ap.add_argument("--only", help="comma-separated scenarios among none,control,slow,hang")
    ap.add_argument("--llm-weight", type=float, default=0,
                    help="arbiter.llm_weight: 0 (default) keeps every scenario's decisions those of the rules, "
                         "so each does the same ledger work and the difference is the LLM layer's cost")
    a = ap.parse_args()
    kinds = a.only.split(",") if a.only else ["none", "control", "slow", "hang"]
    root = Path(tempfile.mkdtemp(prefix="llm-bar-latency-"))
    subprocess.run([a.bin, "sample-data", "--out", str(root / "sample"), "--bars", str(a.bars), "--seed", "7"],
                   check=True, cwd=root, stdout=subprocess.DEVNULL)
    (root / "sample" / "history").mkdir()
    for name in FILES.values():  # the first HISTORY bars, replayed first as history
        lines = (root / "sample" / name).read_text().splitlines(keepends=True)
        (root / "sample" / "history" / name).write_text("".join(lines[:HISTORY + 1]))
    print(f"binary {a.bin}; {a.bars} bars per market ({HISTORY} history), live at {a.rate}/s per market; "
          f"slow model {a.delay} s; work {root}")
    for r in range(a.rounds):
        for kind in kinds:
            res = scenario(kind, a, root / "sample", root / f"{kind}-{r}")
            lat = res["latency"]
            print(f"{kind:5} bar append -> signal.created: n={lat.get('n')} mean={lat.get('mean'):.2f} "
                  f"p50={lat.get('p50')} ms "
                  f"p90={lat.get('p90')} ms p99={lat.get('p99')} ms max={lat.get('max')} ms; "
                  f"throughput {res['bars_per_s']:.0f} bars/s; {res['trading']}; fake LLM calls {res['llm_calls']}",
                  flush=True)
            for line in res["llm_metrics"]:
                print(f"      {line}")


if __name__ == "__main__":
    main()
