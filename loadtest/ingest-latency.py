#!/usr/bin/env python3
"""From an exchange's closing message to `kline.closed` (docs/BENCHMARKS.md, "Market data
ingest"): a local fake exchange (tests/integration/fakes, in this process, on the wall clock), a
fresh redis-server and one gateway ingesting `--market` from it. Each round moves the fake's clock
to the end of the forming bar, which sends that bar's closing message on the WebSocket; the time
until the bar's event is on the Redis stream (a blocking XREAD here) and until a subscribed
WebSocket client of the gateway receives it are recorded. With `--drop-every K` the fake cuts every
socket (no close frame) just before every K-th close and refuses new ones for `--refuse-ms`: the
bar then arrives through the REST repair after the reconnect, and those rounds are reported
apart. Prints p50/p90/p99/max per path.

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
    ap.add_argument("--refuse-ms", type=int, default=3000)
    args = ap.parse_args()

    interval_ms = 60_000
    fake_cls = FakeBinance if args.exchange == "binance" else FakeBybit
    # The fake's clock starts `rounds` + 5 bars behind ours and each round moves it one bar on, so
    # its bars always close in the gateway's past (as real closes do, which the repair after a
    # reconnect relies on). The gateway then sees them as late: history bars, and the market
    # stale — neither matters here (the engine is off).
    behind = (args.rounds + 5) * interval_ms
    with tempfile.TemporaryDirectory() as tmp, fake_cls(clock=WallClock(offset_ms=-behind)) as fake:
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
            "market_data": {"backfill_bars": args.rounds + 105},
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
            while not fake.subscribed("BTCUSDT", "1m" if args.exchange == "binance" else "1"):
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
                    dropped = args.drop_every and n % args.drop_every == 0
                    if dropped:
                        fake.drop_connections(refuse_for_ms=args.refuse_ms)
                    # Move the fake to the end of the forming bar: its closing message goes out.
                    sent = time.monotonic()
                    forming = fake.now_ms() // interval_ms * interval_ms
                    fake.advance_to(forming + interval_ms)
                    reply = r.execute("XREAD", "BLOCK", "60000", "STREAMS", key, last_id)
                    stream_at = time.monotonic()
                    last_id = reply[0][1][-1][0]
                    while True:
                        for line in ws.recv(timeout=60).split("\n"):
                            frame = json.loads(line)
                            if frame.get("type") == "event" and frame.get("id") == last_id:
                                break
                        else:
                            continue
                        break
                    socket_at = time.monotonic()
                    if dropped:
                        repaired.append(stream_at - sent)
                    else:
                        on_stream.append(stream_at - sent)
                        on_socket.append(socket_at - sent)
            print(f"exchange={args.exchange} rounds={args.rounds} drop_every={args.drop_every}")
            print(f"closing message -> kline.closed on the stream:      {percentiles(on_stream)}")
            print(f"closing message -> kline.closed at a subscriber:    {percentiles(on_socket)}")
            if args.drop_every:
                print(f"dropped socket, refused {args.refuse_ms} ms -> on the stream (REST repair): {percentiles(repaired)}")
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
