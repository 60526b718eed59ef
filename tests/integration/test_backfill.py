"""Black-box tests of `bedrock backfill` (SPEC §10 "CLI") against the fake exchanges: the CSV it
writes (SPEC §9, loadable by `bedrock backtest`) and the klines stream it appends to, the whole
range on both exchanges, resuming after a kill (no duplicate, no hole), a 429 waited out, and
clear errors with exit 2 for bad options and a symbol the exchange does not list."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fakes import FakeBinance, FakeBybit
from fakes.bars import MINUTE
from fakes.clock import WallClock
from helpers import BEDROCK_BIN, PREFIX, wait_until

NOW = 1_767_225_600_000  # the fakes' clock: 2026-01-01T00:00:00Z
RFC = "%Y-%m-%dT%H:%M:%SZ"


def bedrock_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    env.update(extra or {})
    return env


def backfill(*args: str, rest_url: str | None = None, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    assert BEDROCK_BIN.exists(), f"{BEDROCK_BIN} missing: run `swift build` first"
    extra = ["--rest-url", rest_url] if rest_url else []
    return subprocess.run([str(BEDROCK_BIN), "backfill", *args, *extra], capture_output=True, text=True,
                          timeout=timeout, env=bedrock_env(env), stdin=subprocess.DEVNULL)


def iso(ms: int) -> str:
    return time.strftime(RFC, time.gmtime(ms // 1000))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def assert_rows_are_the_fakes_bars(rows: list[dict[str, str]], fake, symbol: str, interval: str,
                                   start: int, count: int) -> None:
    assert [r["time"] for r in rows] == [iso(start + i * MINUTE) for i in range(count)], "no hole, no duplicate"
    expected = fake.bars(symbol, interval, start, start + (count - 1) * MINUTE)
    for row, bar in zip(rows, expected):
        assert [float(row[k]) for k in ("open", "high", "low", "close", "volume")] == \
            [float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume)]


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
def test_a_range_becomes_a_csv_that_backtest_loads(exchange, tmp_path):
    fake_class, wire = (FakeBinance, "1m") if exchange == "binance" else (FakeBybit, "1")
    start, end = NOW - 3000 * MINUTE, NOW - 500 * MINUTE
    with fake_class(now_ms=NOW) as fake:
        out = tmp_path / "btc.csv"
        done = backfill("--exchange", exchange, "--market", "btc-usdt", "--interval", "1m",
                        "--from", iso(start), "--to", str(end), "--out", str(out), rest_url=fake.http_url)
        assert done.returncode == 0, done.stderr
        assert f"wrote 2500 bar(s) of {exchange} BTCUSDT 1m in 3 page(s) to {out}" in done.stdout
        assert out.read_text().startswith("time,open,high,low,close,volume\n")
        assert_rows_are_the_fakes_bars(read_csv(out), fake, "BTCUSDT", wire, start, 2500)
        klines = [q for path, q in fake.requests if "kline" in path]
        assert len(klines) == 3 and all(q.get("limit") == "1000" for q in klines)

    report = subprocess.run([str(BEDROCK_BIN), "backtest", "--data", str(out), "--strategy", "sma_cross",
                             "--format", "json"], capture_output=True, text=True, env=bedrock_env(), timeout=60)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["start_date"] == iso(start)


def test_a_killed_run_resumes_with_no_duplicate_and_no_hole(tmp_path):
    start, count = NOW - 60_000 * MINUTE, 60_000
    with FakeBinance(now_ms=NOW) as fake:
        out = tmp_path / "resume.csv"
        args = [str(BEDROCK_BIN), "backfill", "--exchange", "binance", "--market", "BTCUSDT", "--interval", "1m",
                "--from", str(start), "--to", str(start + count * MINUTE), "--out", str(out),
                "--rest-url", fake.http_url]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bedrock_env())
        try:
            wait_until(lambda: out.exists() and out.stat().st_size > 300_000, timeout=60,
                       what="a few pages written")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        partial = read_csv(out)
        assert 0 < len(partial) < count, "killed mid-run"
        # A kill during a write leaves at most a partial last line: simulate the worst case.
        with out.open("a") as f:
            f.write("2026-01-0")
        again = subprocess.run(args, capture_output=True, text=True, env=bedrock_env(), timeout=120)
        assert again.returncode == 0, again.stderr
        assert "cut a partial last line (9 bytes)" in again.stderr
        assert f"already holds bars up to {partial[-1]['time']}; continuing after it" in again.stderr
        assert_rows_are_the_fakes_bars(read_csv(out), fake, "BTCUSDT", "1m", start, count)

        # Once complete, another run (even asking from earlier) writes nothing.
        once_more = backfill("--exchange", "binance", "--market", "BTC/USDT", "--interval", "1m",
                             "--from", str(start - 1000 * MINUTE), "--to", str(start + count * MINUTE),
                             "--out", str(out), rest_url=fake.http_url)
        assert once_more.returncode == 0, once_more.stderr
        assert "wrote 0 bar(s)" in once_more.stdout
        assert len(read_csv(out)) == count


def events(redis_server, market: str, interval: str) -> list[dict]:
    entries = redis_server.client().xrange(f"{PREFIX}stream:klines:{market}:{interval}")
    return [json.loads(fields["event"]) for _, fields in entries]


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
def test_a_range_is_appended_to_the_klines_stream_once(exchange, redis_server):
    fake_class = FakeBinance if exchange == "binance" else FakeBybit
    start = NOW - 2000 * MINUTE
    with fake_class(now_ms=NOW) as fake:
        common = ["--exchange", exchange, "--market", "ETH_USDT", "--interval", "1m", "--from", iso(start),
                  "--redis", redis_server.url]
        # The endpoint from the environment, as `serve` takes it.
        env = {f"BEDROCK_EXCHANGES_{exchange.upper()}_REST_URL": fake.http_url}
        first = backfill(*common, "--to", str(start + 1500 * MINUTE), env=env)
        assert first.returncode == 0, first.stderr
        assert f"wrote 1500 bar(s) of {exchange} ETHUSDT 1m in 2 page(s) to {PREFIX}stream:klines:ETHUSDT:1m" \
            in first.stdout
        # Asked again over a longer range: only the new bars are appended.
        second = backfill(*common, "--to", str(start + 2000 * MINUTE), env=env)
        assert second.returncode == 0, second.stderr
        assert "wrote 500 bar(s)" in second.stdout
        got = events(redis_server, "ETHUSDT", "1m")
        assert [e["open_time"] for e in got] == [iso(start + i * MINUTE) for i in range(2000)]
        e = got[0]
        assert (e["event_type"], e["market"], e["symbol"], e["interval"], e["backfill"]) == \
            ("kline.closed", "ETHUSDT", "ETH/USDT", "1m", True)
        bar = fake.closed_bar("ETHUSDT", "1m" if exchange == "binance" else "1", start)
        assert [e[k] for k in ("open", "high", "low", "close", "volume")] == \
            [float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume)]


def test_a_killed_stream_backfill_resumes_with_no_duplicate_and_no_hole(redis_server):
    start, count = NOW - 40_000 * MINUTE, 40_000
    r = redis_server.client()
    key = f"{PREFIX}stream:klines:BTCUSDT:1m"
    with FakeBinance(now_ms=NOW) as fake:
        args = [str(BEDROCK_BIN), "backfill", "--exchange", "binance", "--market", "BTCUSDT", "--interval", "1m",
                "--from", str(start), "--to", str(start + count * MINUTE), "--redis", redis_server.url,
                "--rest-url", fake.http_url]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bedrock_env())
        try:
            wait_until(lambda: r.execute("XLEN", key) >= 3000, timeout=60, what="a few pages appended")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert r.execute("XLEN", key) < count, "killed mid-run"
        again = subprocess.run(args, capture_output=True, text=True, env=bedrock_env(), timeout=120)
        assert again.returncode == 0, again.stderr
    got = events(redis_server, "BTCUSDT", "1m")
    assert [e["open_time"] for e in got] == [iso(start + i * MINUTE) for i in range(count)]


def test_a_429_is_waited_out_before_anything_else_is_sent(tmp_path):
    # On real time (the fake answers 418 to any request sent before its Retry-After has passed).
    with FakeBinance(clock=WallClock()) as fake:
        now = fake.now_ms()
        start = now - now % MINUTE - 3000 * MINUTE
        fake.force_429(retry_after_s=2)
        began = time.monotonic()
        done = backfill("--exchange", "binance", "--market", "BTCUSDT", "--interval", "1m", "--from", str(start),
                        "--to", str(start + 2000 * MINUTE), "--out", str(tmp_path / "a.csv"), rest_url=fake.http_url)
        assert done.returncode == 0, done.stderr
        assert "binance rate limit reached: sending nothing for 2 s" in done.stderr
        assert "banned" not in done.stderr
        assert time.monotonic() - began >= 2
        assert len(read_csv(tmp_path / "a.csv")) == 2000


def test_bad_options_and_an_unknown_symbol_exit_2_with_one_clear_line(tmp_path):
    out = str(tmp_path / "x.csv")
    base = ["--market", "BTC/USDT", "--interval", "1h", "--from", "2025-01-01", "--out", out]
    cases = [
        (["--exchange", "kraken", *base], "--exchange 'kraken' is not supported: use binance or bybit"),
        (["--exchange", "bybit", "--market", "BTC/USDT", "--interval", "8h", "--from", "2025-01-01", "--out", out],
         "bybit has no 8h klines; it offers 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w 1M"),
        (["--exchange", "binance", *base, "--to", "2024-12-31"], "--to (2024-12-31) must be after --from (2025-01-01)"),
        (["--exchange", "binance", "--market", "BTC//USDT", "--interval", "1h", "--from", "2025-01-01", "--out", out],
         "--market 'BTC//USDT' is invalid"),
        (["--exchange", "binance", "--market", "BTCUSDT", "--interval", "1h", "--from", "yesterday", "--out", out],
         "--from 'yesterday' is not a date"),
        (["--exchange", "binance", "--market", "BTCUSDT", "--interval", "1h", "--from", "2025-01-01"],
         "give --out FILE.csv or --redis URL|embedded"),
        (["--exchange", "binance", *base, "--redis", "redis://127.0.0.1:1"], "give --out or --redis, not both"),
        (["--exchange", "binance", *base, "--rest-url", "ftp://x"], "--rest-url must be an http:// or https:// URL"),
    ]
    for args, message in cases:
        done = backfill(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr
        assert message in done.stderr, done.stderr
    assert not Path(out).exists(), "bad options write nothing"

    for exchange, fake_class in (("binance", FakeBinance), ("bybit", FakeBybit)):
        with fake_class(now_ms=NOW) as fake:
            done = backfill("--exchange", exchange, "--market", "DOGE/EUR", "--interval", "1h", "--from",
                            "2025-06-01", "--to", "2025-07-01", "--out", out, rest_url=fake.http_url)
            assert done.returncode == 2, done.stderr
            assert f"{exchange} does not list the symbol DOGEEUR" in done.stderr
            assert fake.http_url.split("//")[1] not in done.stderr


def test_an_unreachable_exchange_is_a_runtime_failure(tmp_path):
    done = backfill("--exchange", "binance", "--market", "BTCUSDT", "--interval", "1h", "--from", "2025-01-01",
                    "--to", "2025-01-02", "--out", str(tmp_path / "y.csv"), rest_url="http://127.0.0.1:9",
                    timeout=60)
    assert done.returncode == 1
    assert "binance REST API unreachable" in done.stderr
    assert "/api/v3" not in done.stderr
