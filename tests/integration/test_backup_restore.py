"""The restore drill (SPEC §13, docs/ops/BACKUP.md): a gateway trades (positions opened and
closed through the API), `bedrock backup` snapshots its Redis while it runs, `bedrock restore`
loads the file into a fresh redis-server, and a gateway started on that one answers `/v1/account`,
`/v1/positions` and `/v1/trades` exactly as the first did, with the same stream entry ids and the
ledger invariants holding (docs/REDIS_LAYOUT.md "Money"). A restore into a Redis that holds
Bedrock keys is refused without `--force`; a corrupt or truncated file is refused and changes
nothing, even with `--force`.
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import BEDROCK_BIN, PREFIX, RedisServer, stream_key
from test_engine import all_pages
from test_manual_entry import FAST, kline, open_position
from test_ledger_api import rest


def bedrock(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}, **(env or {})}
    return subprocess.run([str(BEDROCK_BIN), *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture
def target_redis(tmp_path_factory):
    """A fresh redis-server to restore into (set up before the gateways, so stopped after them)."""
    server = RedisServer(tmp_path_factory.mktemp("target-redis"))
    server.start()
    yield server
    server.stop()


def trade(gw) -> None:
    """Three manual entries; two closed by hand after the price moved, one left open."""
    gw.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 0, 99, 101, 98, 100))
    gw.xadd("klines:ETHUSDT:1h", kline("ETHUSDT", 0, 49, 51, 48, 50))
    gw.xadd("klines:SOLUSDT:1h", kline("SOLUSDT", 0, 19, 21, 19, 20))
    ids = {}
    for market, body in [("BTCUSDT", {"side": "BUY", "weight": 0.3, "stop_loss_price": 95}),
                         ("ETHUSDT", {"side": "SELL", "size": 10, "stop_loss_price": 55}),
                         ("SOLUSDT", {"side": "BUY", "weight": 0.2, "stop_loss_price": 18})]:
        status, opened = open_position(gw, {"market": market, **body})
        assert status == 200, opened
        ids[market] = opened["id"]
    gw.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 1, 100, 105, 100, 104))
    gw.xadd("klines:ETHUSDT:1h", kline("ETHUSDT", 1, 50, 50, 47, 48))
    for market in ("BTCUSDT", "ETHUSDT"):
        status, closed = rest(gw, f"/v1/positions/{ids[market]}/close", role="TRADER", method="POST")
        assert status == 200 and closed["status"] == "CLOSED", closed


def ledger(gw) -> dict:
    status, account = rest(gw, "/v1/account")
    assert status == 200, account
    return {"account": account, "positions": all_pages(gw, "/v1/positions"), "trades": all_pages(gw, "/v1/trades")}


def assert_invariants(state: dict) -> None:
    """balance = initial + realized − commission, frozen = Σ cost of open positions, and the trades
    are the closed positions (docs/REDIS_LAYOUT.md)."""
    a = {k: Decimal(str(v)) for k, v in state["account"].items() if isinstance(v, (int, float))}
    tolerance = Decimal("0.00000001") * 10
    assert abs(a["balance"] - (a["initial_balance"] + a["realized_pnl"] - a["commission_paid"])) <= tolerance, a
    open_positions = [p for p in state["positions"] if p["status"] == "OPEN"]
    frozen = sum(Decimal(str(p["position_size"])) * Decimal(str(p["entry_price"])) for p in open_positions)
    assert abs(a["frozen_balance"] - frozen) <= tolerance, (a, open_positions)
    assert sorted(t["position_id"] for t in state["trades"]) == sorted(
        p["id"] for p in state["positions"] if p["status"] == "CLOSED")
    assert len(open_positions) == 1 and len(state["trades"]) == 2


def streams(r) -> dict[str, list[str]]:
    """Every stream under the prefix and its entry ids."""
    keys, cursor = [], "0"
    while True:
        cursor, page = r.execute("SCAN", cursor, "MATCH", f"{PREFIX}*", "TYPE", "stream", "COUNT", 1000)
        keys += page
        if cursor == "0":
            break
    return {k: [entry_id for entry_id, _ in r.xrange(k)] for k in sorted(set(keys))}


def dumps(r) -> dict[str, str]:
    """Every key under the prefix and its DUMP (what a refused restore must leave alone)."""
    keys, cursor = [], "0"
    while True:
        cursor, page = r.execute("SCAN", cursor, "MATCH", f"{PREFIX}*", "COUNT", 1000)
        keys += page
        if cursor == "0":
            break
    return {k: r.execute("DUMP", k) for k in sorted(set(keys))}


def test_restore_drill(target_redis, start_gateway, tmp_path):
    gw = start_gateway(FAST)
    trade(gw)
    before = ledger(gw)
    assert_invariants(before)

    out = tmp_path / "bedrock.bak"
    backup = bedrock("backup", "--out", out, "--config", gw.config_path, "--data-dir", gw.data_dir)
    assert backup.returncode == 0, backup.stderr
    assert backup.stdout.startswith("backed up ") and "writes paused for" in backup.stdout, backup.stdout
    assert out.exists() and not Path(f"{out}.tmp").exists()
    with gw.redis() as r:
        source_streams = streams(r)
    assert source_streams[stream_key("portfolio")], "the trades' events are in the snapshot's streams"

    restore = bedrock("restore", "--from", out, "--redis", target_redis.url, "--config", gw.config_path)
    assert restore.returncode == 0, restore.stderr
    assert restore.stdout.startswith("restored "), restore.stdout
    assert f"({len(source_streams)} stream(s)" in restore.stdout, restore.stdout
    with target_redis.client() as r:
        assert streams(r) == source_streams
        restored_keys = dumps(r)
    with gw.redis() as r:
        assert set(restored_keys) <= set(dumps(r))
    assert restore.stdout.startswith(f"restored {len(restored_keys)} key(s)"), (restore.stdout, len(restored_keys))
    assert len(restored_keys) >= 15, sorted(restored_keys)  # account, risk, positions, trades, indexes, streams…

    # Into a Redis that now holds Bedrock keys: refused without --force, one line, nothing changed.
    again = bedrock("restore", "--from", out, "--redis", target_redis.url, "--config", gw.config_path)
    assert again.returncode == 1, again
    assert again.stderr.count("\n") == 1, again.stderr
    assert f"already holds {len(restored_keys)} Bedrock key(s)" in again.stderr and "--force" in again.stderr
    # A corrupt or truncated file: refused before anything is written, even with --force.
    data = out.read_bytes()
    def flipped(at):
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]
    # The last byte before the 32-byte checksum is inside the last DUMP payload, which only the
    # checksum covers; a flip in the middle may land on a length or a time to live instead, which
    # the parser refuses by name before the checksum is reached: both are refusals.
    payload_flip, middle_flip = tmp_path / "corrupt.bak", tmp_path / "corrupt-middle.bak"
    payload_flip.write_bytes(flipped(len(data) - 33))
    middle_flip.write_bytes(flipped(len(data) // 2))
    truncated = tmp_path / "truncated.bak"
    truncated.write_bytes(data[:-100])
    for bad, why in [(payload_flip, "checksum mismatch"), (truncated, "truncated"), (middle_flip, "")]:
        refused = bedrock("restore", "--from", bad, "--redis", target_redis.url, "--force", "--config", gw.config_path)
        assert refused.returncode == 1 and why in refused.stderr, refused
        assert "nothing was restored" in refused.stderr
    with target_redis.client() as r:
        assert dumps(r) == restored_keys

    # --force replaces what is there with the file's keys, exactly.
    with target_redis.client() as r:
        r.execute("SET", f"{PREFIX}stray", "not in the backup")
    forced = bedrock("restore", "--from", out, "--redis", target_redis.url, "--force", "--config", gw.config_path)
    assert forced.returncode == 0, forced.stderr
    assert f"replacing {len(restored_keys) + 1} existing key(s)" in forced.stdout, forced.stdout
    with target_redis.client() as r:
        assert dumps(r) == restored_keys

    # A gateway on the restored Redis answers the same ledger.
    second = start_gateway(FAST, redis=target_redis.url)
    after = ledger(second)
    assert after == before
    assert_invariants(after)
    with target_redis.client() as r:
        assert {k: v[:len(source_streams[k])] for k, v in streams(r).items() if k in source_streams} == source_streams


def test_arguments_and_help(tmp_path, redis_server):
    for args, words in [(["backup"], "--out is required"),
                        (["backup", "--out", tmp_path], "is a directory"),
                        (["backup", "--out", tmp_path / "x.bak", "--redis", "nope://x"], "--redis 'nope://x'"),
                        (["restore"], "--from is required"),
                        (["restore", "--from", "x.bak", "--bogus"], "--bogus")]:
        p = bedrock(*args)
        assert p.returncode == 2, (args, p)
        assert p.stderr.count("\n") == 1 and words in p.stderr, (args, p.stderr)
    for command in ("backup", "restore"):
        p = bedrock(command, "--help")
        assert p.returncode == 0 and "--redis" in p.stdout, p
    missing = bedrock("restore", "--from", tmp_path / "none.bak", "--redis", redis_server.url)
    assert missing.returncode == 1 and "cannot open" in missing.stderr, missing
    unreachable = bedrock("backup", "--out", tmp_path / "x.bak", "--redis", "redis://127.0.0.1:1")
    assert unreachable.returncode == 1 and "cannot connect" in unreachable.stderr, unreachable
    assert not (tmp_path / "x.bak").exists()


def test_a_file_of_another_prefix_is_refused(tmp_path, redis_server, target_redis):
    with redis_server.client() as r:
        r.execute("HSET", "other:account", "balance", "1")
        r.execute("SET", f"{PREFIX}account", "not taken")
    out = tmp_path / "other.bak"
    taken = bedrock("backup", "--out", out, "--redis", redis_server.url, env={"BEDROCK_REDIS_PREFIX": "other:"})
    assert taken.returncode == 0 and taken.stdout.startswith("backed up 1 key(s)"), taken
    refused = bedrock("restore", "--from", out, "--redis", target_redis.url)
    assert refused.returncode == 1, refused
    assert "under prefix 'other:' but redis.prefix is 'bedrock:'" in refused.stderr, refused.stderr
    loaded = bedrock("restore", "--from", out, "--redis", target_redis.url, env={"BEDROCK_REDIS_PREFIX": "other:"})
    assert loaded.returncode == 0, loaded
    with target_redis.client() as r:
        assert r.execute("KEYS", "*") == ["other:account"]
