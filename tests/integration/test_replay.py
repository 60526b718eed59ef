"""Black-box tests of `bedrock replay` and `bedrock sample-data` (SPEC §2, §7, §9): the
kline.closed events in the Redis stream, resuming, pacing, delivery to a subscriber through the
gateway, exit codes, and the synthetic sample files."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from helpers import BEDROCK_BIN, stream_key

MARKET, INTERVAL = "BTCUSDT", "1h"
TOPIC = f"klines:{MARKET}:{INTERVAL}"
JAN1 = 1704067200  # 2024-01-01T00:00:00Z


def run(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    assert BEDROCK_BIN.exists(), f"{BEDROCK_BIN} missing: run `swift build` first"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    return subprocess.run([str(BEDROCK_BIN), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env, stdin=subprocess.DEVNULL)


def bar_rows(start: int, n: int) -> list[tuple]:
    """n hourly bars from index `start` (time, open, high, low, close, volume)."""
    rows = []
    for i in range(start, start + n):
        o = 100 + i
        rows.append((JAN1 + 3600 * i, o, o + 2.5, o - 1.25, o + 0.5, 10 + i))
    return rows


def write_csv(path: Path, rows: list[tuple]) -> Path:
    lines = ["timestamp,open,high,low,close,volume"] + [",".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def replay(csv: Path, redis_url: str, *extra: str, cwd: Path) -> subprocess.CompletedProcess:
    return run("replay", "--data", str(csv), "--market", MARKET, "--interval", INTERVAL,
               "--redis", redis_url, *extra, cwd=cwd)


def stream_events(redis_server) -> list[dict]:
    with redis_server.client() as r:
        return [json.loads(fields["event"]) for _, fields in r.xrange(stream_key(TOPIC))]


def assert_bar_event(ev: dict, row: tuple) -> None:
    t, o, h, lo, c, v = row
    assert ev["event_type"] == "kline.closed"
    assert ev["schema_version"] == "2.0"
    assert ev["timestamp"].endswith("Z") and ev["timestamp"][:4] >= "2024"
    assert (ev["market"], ev["interval"], ev["open_time"]) == (MARKET, INTERVAL, iso(t))
    assert (ev["open"], ev["high"], ev["low"], ev["close"], ev["volume"]) == (o, h, lo, c, v)
    for key in ("open", "high", "low", "close", "volume"):
        assert isinstance(ev[key], (int, float)) and not isinstance(ev[key], bool), key


def test_replay_publishes_every_bar_in_order_then_resumes(redis_server, tmp_path):
    rows = bar_rows(0, 25)
    csv = write_csv(tmp_path / "bars.csv", rows)
    p = replay(csv, redis_server.url, "--speed", "0", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "published 25" in p.stdout
    events = stream_events(redis_server)
    assert len(events) == 25
    for ev, row in zip(events, rows):
        assert_bar_event(ev, row)

    # Same file again: nothing new, everything skipped.
    p = replay(csv, redis_server.url, "--speed", "0", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "published 0" in p.stdout and "skipped 25" in p.stdout
    assert "skipped 25" in p.stderr
    assert len(stream_events(redis_server)) == 25

    # More rows appended: only those are published.
    more = rows + bar_rows(25, 7)
    write_csv(csv, more)
    p = replay(csv, redis_server.url, "--speed", "0", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "published 7" in p.stdout and "skipped 25" in p.stdout
    events = stream_events(redis_server)
    assert len(events) == 32
    for ev, row in zip(events, more):
        assert_bar_event(ev, row)

    # --from-start republishes everything.
    p = replay(csv, redis_server.url, "--speed", "0", "--from-start", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "published 32" in p.stdout
    assert len(stream_events(redis_server)) == 64


def test_speed_paces_the_bars(redis_server, tmp_path):
    csv = write_csv(tmp_path / "ten.csv", bar_rows(0, 10))
    started = time.monotonic()
    p = replay(csv, redis_server.url, "--speed", "20", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert p.returncode == 0, p.stderr
    assert len(stream_events(redis_server)) == 10
    assert elapsed >= 0.35, f"10 bars at 20 bars/s took only {elapsed:.3f} s"


def test_fast_first_publishes_history_at_once_then_paces(redis_server, tmp_path):
    """--fast-first N: the file's first N bars at full speed, the rest at --speed."""
    rows = bar_rows(0, 40)
    csv = write_csv(tmp_path / "forty.csv", rows)
    started = time.monotonic()
    p = replay(csv, redis_server.url, "--speed", "10", "--fast-first", "35", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert p.returncode == 0, p.stderr
    events = stream_events(redis_server)
    assert len(events) == 40
    for ev, row in zip(events, rows):
        assert_bar_event(ev, row)
    # The first 35 are history (`"backfill": true`, SPEC §10); the rest carry no flag.
    assert [ev.get("backfill") for ev in events] == [True] * 35 + [None] * 5
    assert "published 40 bar(s) (the first 35 flagged as history)" in p.stdout
    # 35 at once, then 5 at 10 bars/s (≈ 0.4 s): far less than 40 bars at 10/s (≈ 3.9 s)
    assert 0.3 <= elapsed < 3.0, elapsed


def test_subscriber_receives_replayed_bars(gateway, tmp_path):
    rows = bar_rows(0, 12)
    csv = write_csv(tmp_path / "bars.csv", rows)
    ws, _ = gateway.session("VIEWER", "v")
    try:
        assert gateway.subscribe(ws, TOPIC)["type"] == "subscribed"
        p = run("replay", "--config", str(gateway.config_path), "--data", str(csv), "--market", MARKET,
                "--interval", INTERVAL, "--speed", "0", cwd=gateway.root)
        assert p.returncode == 0, p.stderr
        got = []
        deadline = time.monotonic() + 15
        while len(got) < len(rows):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"only {len(got)} of {len(rows)} bars arrived"
            f = ws.recv(remaining)
            if f.get("type") == "event" and f.get("topic") == TOPIC:
                got.append(f["data"])
        for ev, row in zip(got, rows):
            assert_bar_event(ev, row)
    finally:
        ws.close()


def test_embedded_means_the_running_gateways_redis(start_gateway, tmp_path):
    gw = start_gateway(redis="embedded")
    csv = write_csv(tmp_path / "bars.csv", bar_rows(0, 5))
    p = run("replay", "--config", str(gw.config_path), "--data-dir", str(gw.data_dir), "--data", str(csv),
            "--market", MARKET, "--interval", INTERVAL, "--speed", "0", "--redis", "embedded", cwd=gw.root)
    assert p.returncode == 0, p.stderr
    with gw.redis() as r:
        assert len(r.xrange(stream_key(TOPIC))) == 5


def test_embedded_without_a_gateway_says_so(tmp_path):
    csv = write_csv(tmp_path / "bars.csv", bar_rows(0, 3))
    p = run("replay", "--data-dir", str(tmp_path / "nothing"), "--data", str(csv), "--market", MARKET,
            "--interval", INTERVAL, "--redis", "embedded", cwd=tmp_path)
    assert p.returncode == 1
    assert "no embedded Redis" in p.stderr and "redis.sock" in p.stderr


def test_bad_arguments_exit_2(redis_server, tmp_path):
    csv = write_csv(tmp_path / "bars.csv", bar_rows(0, 3))
    for market, interval, speed, rule in [("BTC USDT", "1h", "0", "--market"), ("BTC//USDT", "1h", "0", "--market"),
                                          ("BTCUSDT", "7h", "0", "--interval"), ("BTCUSDT", "1h", "-1", "--speed")]:
        p = run("replay", "--data", str(csv), "--market", market, "--interval", interval, "--speed", speed,
                "--redis", redis_server.url, cwd=tmp_path)
        assert p.returncode == 2, (market, interval, speed, p.stderr)
        assert rule in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert stream_events(redis_server) == []


def test_file_problems_exit_1_naming_file_and_line(redis_server, tmp_path):
    missing = tmp_path / "missing.csv"
    p = replay(missing, redis_server.url, "--speed", "0", cwd=tmp_path)
    assert p.returncode == 1
    assert str(missing) in p.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n1704067200,1,2,0.5,1.5,3\n1704070800,1,x,0.5,1.5,3\n")
    p = replay(bad, redis_server.url, "--speed", "0", cwd=tmp_path)
    assert p.returncode == 1
    assert f"{bad}:3" in p.stderr
    assert stream_events(redis_server) == []


def test_sample_data_writes_two_csvs_that_backtest_accepts(tmp_path):
    out = tmp_path / "sample"
    p = run("sample-data", "--out", str(out), "--bars", "1500", "--seed", "7", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    files = {f: (out / f"{f}-1h.csv") for f in ("BTCUSDT", "ETHUSDT")}
    for market, path in files.items():
        lines = path.read_text().splitlines()
        assert lines[0] == "time,open,high,low,close,volume"
        assert len(lines) == 1501
        assert lines[1].startswith("2024-01-01T00:00:00Z,")
        b = run("backtest", "--data", str(path), "--strategy", "oops", "--format", "json", cwd=tmp_path)
        assert b.returncode == 0, b.stderr
        assert json.loads(b.stdout)["strategy_name"] == "oops"
    first = {m: p.read_text() for m, p in files.items()}
    # Deterministic: the same seed gives the same files; another seed other files.
    assert run("sample-data", "--out", str(out), "--bars", "1500", "--seed", "7", cwd=tmp_path).returncode == 0
    assert {m: p.read_text() for m, p in files.items()} == first
    assert run("sample-data", "--out", str(out), "--bars", "1500", "--seed", "8", cwd=tmp_path).returncode == 0
    assert files["BTCUSDT"].read_text() != first["BTCUSDT"]
    assert "SYNTHETIC" in (out / "README.txt").read_text()
    assert run("sample-data", "--out", str(out), "--bars", "0", cwd=tmp_path).returncode == 2
