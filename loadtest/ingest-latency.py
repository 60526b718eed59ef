#!/usr/bin/env python3
"""From an exchange's closing message to `kline.closed` (docs/BENCHMARKS.md, "Market data
ingest"): a local fake exchange (tests/integration/fakes, in this process, on the wall clock), a
fresh redis-server and one gateway ingesting BTC/USDT 1m from it. Each round moves the fake's clock
to the end of the forming bar, which sends that bar's closing message on the WebSocket; the time
until the bar's event is on the Redis stream (a blocking XREAD here) and until a subscribed
WebSocket client of the gateway receives it are recorded. With `--drop-every K` the fake cuts every
socket (no close frame) mid-bar before every K-th close and refuses new ones until the gateway has
tried again: the missed bar comes through the REST repair once the gateway is back and the next
bar closes; those rounds are reported apart (from that next close to the missed bar on the
stream). Prints p50/p90/p99/max per path.

    loadtest/ingest-latency.py [--bin .build/release/bedrock] [--exchange binance|bybit] [--rounds 1000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from fakes import FakeBinance, FakeBybit, WallClock  # noqa: E402
from helpers import free_port, make_jwt  # noqa: E402
from resp import Redis, wait_for_redis  # noqa: E402
from websockets.sync.client import connect  # noqa: E402


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    v = sorted(values)

    def p(q: float) -> float:
        return v[min(len(v) - 1, int(q * len(v)))] * 1000

    return f"n={len(v)} p50={p(0.5):.2f} ms p90={p(0.9):.2f} ms p99={p(0.99):.2f} ms max={v[-1] * 1000:.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / ".build/release/bedrock"))
    ap.add_argument("--exchange", choices=["binance", "bybit"], default="binance")
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--drop-every", type=int, default=0)
    args = ap.parse_args()

    interval_ms = 60_000
    fake_cls = FakeBinance if args.exchange == "binance" else FakeBybit
    # The fake runs on the wall clock; each round moves it to the end of its forming bar.
    with tempfile.TemporaryDirectory() as tmp, fake_cls(clock=WallClock()) as fake:
        redis_port, port = free_port(), free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL)
        wait_for_redis(port=redis_port)
        secret = "ingest-latency-benchmark-secret-0123456789"
        config = Path(tmp) / "bedrock.json"
        config.write_text(json.dumps({
            "mode": "dev", "data_dir": tmp, "server": {"port": port, "public_dir": str(REPO / "public")},
            "redis": {"url": f"redis://127.0.0.1:{redis_port}"}, "log": {"level": "warning"},
            "jwt": {"secret": secret}, "engine": {"strategies": []},
            "market_data": {"backfill_bars": 100},
        }))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
        name = args.exchange.upper()
        env.update({
            "BEDROCK_MARKET_DATA_MARKETS": f"{args.exchange}:BTC/USDT:1m",
            f"BEDROCK_EXCHANGES_{name}_REST_URL": fake.http_url,
            f"BEDROCK_EXCHANGES_{name}_WS_URL": fake.spot_ws_url if args.exchange == "bybit" else fake.ws_url,
        })
        log = open(Path(tmp) / "gateway.log", "wb")
        gw = subprocess.Popen([args.bin, "serve", "--config", str(config)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            r = Redis(port=redis_port)
            key = "bedrock:stream:klines:BTCUSDT:1m"
            deadline = time.monotonic() + 30
            while r.execute("XLEN", key) < 95:
                assert time.monotonic() < deadline, "the gateway did not backfill within 30 s"
                time.sleep(0.05)
            wire = "1m" if args.exchange == "binance" else "1"
            while not fake.subscribed("BTCUSDT", wire):
                assert time.monotonic() < deadline, "the gateway did not subscribe within 30 s"
                time.sleep(0.05)
            last_id = r.execute("XREVRANGE", key, "+", "-", "COUNT", "1")[0][0]
            token = make_jwt({"sub": "bench", "role": "VIEWER", "exp": int(time.time()) + 3600}, secret=secret)
            url = f"ws://127.0.0.1:{port}/ws?token={token}"
            with connect(url, subprotocols=["bedrock.v1"], compression=None, proxy=None, max_size=None) as ws:
                ws.recv()  # welcome
                ws.send(json.dumps({"type": "subscribe", "id": 1, "topic": "klines:BTCUSDT:1m"}))
                on_stream, on_socket, repaired = [], [], []
                for n in range(1, args.rounds + 1):
                    forming = fake.now_ms() // interval_ms * interval_ms
                    if args.drop_every and n % args.drop_every == 0:
                        # The socket drops mid-bar and is refused while the bar closes; once the
                        # gateway is back, the next close shows the hole and both bars come, the
                        # missed one over REST.
                        refused = fake.ws_refused
                        fake.refuse_connections(True)
                        fake.drop_connections()
                        fake.advance_to(forming + interval_ms)
                        wait = time.monotonic() + 30
                        while fake.ws_refused == refused and time.monotonic() < wait:
                            time.sleep(0.01)
                        fake.refuse_connections(False)
                        while not fake.subscribed("BTCUSDT", wire):
                            time.sleep(0.005)
                        sent = time.monotonic()
                        fake.advance_to(forming + 2 * interval_ms)
                        while True:
                            reply = r.execute("XREAD", "BLOCK", "60000", "STREAMS", key, last_id)
                            last_id = reply[0][1][-1][0]
                            if r.execute("XLEN", key) and json.loads(
                                    r.execute("XREVRANGE", key, "+", "-", "COUNT", "1")[0][1][1])["open_time"] \
                                    >= iso(forming + interval_ms):
                                break
                        repaired.append(time.monotonic() - sent)
                        continue
                    # Move the fake to the end of the forming bar: its closing message goes out.
                    sent = time.monotonic()
                    fake.advance_to(forming + interval_ms)
                    reply = r.execute("XREAD", "BLOCK", "60000", "STREAMS", key, last_id)
                    stream_at = time.monotonic()
                    last_id = reply[0][1][-1][0]
                    while True:
                        for line in ws.recv(timeout=60).split("\n"):
                            frame = json.loads(line)
                            if frame.get("type") == "ping":
                                ws.send(json.dumps({"type": "pong"}))
                            if frame.get("type") == "event" and frame.get("id") == last_id:
                                break
                        else:
                            continue
                        break
                    on_stream.append(stream_at - sent)
                    on_socket.append(time.monotonic() - sent)
            print(f"exchange={args.exchange} rounds={args.rounds} drop_every={args.drop_every}")
            print(f"closing message -> kline.closed on the stream:      {percentiles(on_stream)}")
            print(f"closing message -> kline.closed at a subscriber:    {percentiles(on_socket)}")
            if args.drop_every:
                print(f"dropped socket: next close -> missed bar (REST) and it on the stream: {percentiles(repaired)}")
        except BaseException:
            print((Path(tmp) / "gateway.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            gw.terminate()
            gw.wait(15)
            redis.terminate()
            redis.wait(5)


if __name__ == "__main__":
    main()
