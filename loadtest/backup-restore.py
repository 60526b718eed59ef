#!/usr/bin/env python3
"""Backup and restore of a large Bedrock Redis (docs/ops/BACKUP.md; target: 1,000,000 keys,
< 60 s each way).

    loadtest/backup-restore.py [--bin .build/debug/bedrock] [--keys 1000000]

A fresh redis-server is filled (by Lua, in chunks) with `--keys` keys under `bedrock:` shaped
like a ledger: signal, position and trade hashes (12-20 fields each), their three index sorted
sets, four streams of 50,000 entries each with a consumer group, and small job strings with a
time to live. Then, timed from outside (wall clock of the process):
`bedrock backup --redis <source> --out FILE` — while a writer thread INCRs a key outside the
prefix in a loop, recording its longest wait (what a writer sees during the pause) — and
`bedrock restore --from FILE --redis <fresh target>`. The target is checked: same key count,
a sample of 2,000 keys with identical DUMPs, every stream's last id and group identical.
Prints one JSON object.
"""
import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(REPO / "loadtest"))
from helpers import RedisServer  # noqa: E402
from llm_bench import machine  # noqa: E402
from resp import Redis  # noqa: E402

P = "bedrock:"
STREAMS = ["stream:signals", "stream:portfolio", "stream:risk", "stream:klines:BTCUSDT:1h"]
STREAM_ENTRIES = 50_000

# Hashes first..last of one kind (ARGV: prefix, kind, first, last), the ledger's field shapes.
FILL = """
local P, kind, first, last = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
for i = first, last do
  local k = P .. kind .. ':' .. i
  if kind == 'signal' then
    redis.call('HSET', k, 'id', i, 'market', 'BTCUSDT', 'interval', '1h', 'strategy', 'pullback', 'side', 'BUY',
      'entry_price', '43210.12345678', 'stop_loss_price', '42000.5', 'final_decision', 'APPROVED',
      'confidence', '0.73', 'bar_time', '2026-01-01T00:00:00Z', 'created_at', '2026-01-01T01:00:00.123Z',
      'suggested_position_weight', '0.5')
  elseif kind == 'position' then
    redis.call('HSET', k, 'id', i, 'signal_id', i, 'market', 'ETHUSDT', 'side', 'SELL', 'status', 'CLOSED',
      'size', '1.23456789', 'entry_price', '2345.6789', 'current_price', '2300.1', 'stop_loss_price', '2400',
      'cost', '2895.95060617', 'entry_commission', '2.89595060', 'exit_commission', '2.83', 'commission', '5.72',
      'realized_pnl', '50.53', 'roi', '0.0174', 'exit_price', '2300.1', 'exit_reason', 'TARGET', 'trade_id', i,
      'opened_at', '2026-01-01T01:00:00Z', 'closed_at', '2026-01-02T01:00:00Z', 'opened_by', 'engine',
      'closed_by', 'engine')
  else
    redis.call('HSET', k, 'id', i, 'position_id', i, 'market', 'ETHUSDT', 'side', 'SELL', 'size', '1.23456789',
      'entry_price', '2345.6789', 'exit_price', '2300.1', 'pnl', '50.53', 'commission', '5.72',
      'exit_reason', 'TARGET', 'entry_time', '2026-01-01T01:00:00Z', 'exit_time', '2026-01-02T01:00:00Z')
  end
  redis.call('ZADD', P .. kind .. 's:index', i, i)
end
return last - first + 1
"""

STREAM_FILL = """
local key, first, last = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
for i = first, last do
  redis.call('XADD', key, (1767225600000 + i) .. '-0', 'event',
    '{"event_type":"portfolio.updated","schema_version":"2.0","timestamp":"2026-01-01T00:00:00Z","position_id":' .. i .. '}')
end
return 1
"""

JOBS = """
local P, first, last = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for i = first, last do redis.call('SET', P .. 'job:' .. i .. ':report', '{"total_trades":12}', 'PX', 86400000) end
return 1
"""


def fill(r: Redis, keys: int) -> None:
    streams, indexes = len(STREAMS), 3
    jobs = max(0, min(10_000, keys - streams - indexes))
    per_kind = (keys - streams - indexes - jobs) // 3
    jobs = keys - streams - indexes - 3 * per_kind
    chunk = 5_000
    for kind in ("signal", "position", "trade"):
        for first in range(1, per_kind + 1, chunk):
            r.execute("EVAL", FILL, 0, P, kind, first, min(first + chunk - 1, per_kind))
    for s in STREAMS:
        for first in range(1, STREAM_ENTRIES + 1, chunk):
            r.execute("EVAL", STREAM_FILL, 1, P + s, first, min(first + chunk - 1, STREAM_ENTRIES))
        r.execute("XGROUP", "CREATE", P + s, "engine", "0")
        r.execute("XREADGROUP", "GROUP", "engine", "gw-1", "COUNT", 100, "STREAMS", P + s, ">")
    r.execute("EVAL", JOBS, 0, P, 1, jobs)


class Writer(threading.Thread):
    """INCRs a key outside the prefix in a loop; records the longest single wait."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.stop, self.longest, self.writes = port, threading.Event(), 0.0, 0

    def run(self) -> None:
        with Redis(port=self.port, timeout=300) as r:
            while not self.stop.is_set():
                t = time.perf_counter()
                r.execute("INCR", "bench:writer")
                self.longest = max(self.longest, time.perf_counter() - t)
                self.writes += 1
                time.sleep(0.001)


def run(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600,
                       env={k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")})
    seconds = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return seconds, p.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=str(REPO / ".build" / "debug" / "bedrock"))
    ap.add_argument("--keys", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bedrock-backup-bench-") as tmp:
        source, target = RedisServer(Path(tmp) / "source"), RedisServer(Path(tmp) / "target")
        source.start()
        target.start()
        try:
            with source.client() as r:
                t = time.perf_counter()
                fill(r, args.keys)
                fill_s = time.perf_counter() - t
                assert r.execute("DBSIZE") == args.keys, r.execute("DBSIZE")
                used = int(next(l for l in r.execute("INFO", "memory").splitlines()
                                if l.startswith("used_memory:")).split(":")[1])
            out = Path(tmp) / "bedrock.bak"
            writer = Writer(source.port)
            writer.start()
            time.sleep(0.5)
            backup_s, backup_out = run([args.bin, "backup", "--redis", source.url, "--out", str(out)])
            time.sleep(0.5)
            writer.stop.set()
            writer.join()
            backup_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            restore_s, restore_out = run([args.bin, "restore", "--from", str(out), "--redis", target.url])
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            with source.client() as s, target.client() as d:
                assert d.execute("DBSIZE") == args.keys, d.execute("DBSIZE")
                keys = [P + f"{kind}:{i}" for kind in ("signal", "position", "trade")
                        for i in random.Random(7).sample(range(1, (args.keys - 10_007) // 3), 666)]
                keys += [P + s_ for s_ in STREAMS] + [P + "positions:index"]
                for k in keys:
                    assert s.execute("DUMP", k) == d.execute("DUMP", k), k
                for s_ in STREAMS:
                    assert s.execute("XINFO", "GROUPS", P + s_) == d.execute("XINFO", "GROUPS", P + s_)
                    info = [dict(zip(x[0::2], x[1::2])) for x in (s.execute("XINFO", "STREAM", P + s_),
                                                                   d.execute("XINFO", "STREAM", P + s_))]
                    for field in ("length", "last-generated-id", "max-deleted-entry-id", "entries-added"):
                        assert info[0][field] == info[1][field], (s_, field, info)
            print(json.dumps({
                "machine": machine(), "bin": args.bin, "keys": args.keys, "fill_s": round(fill_s, 1),
                "redis_used_memory_mb": round(used / 1e6), "file_mb": round(out.stat().st_size / 1e6, 1),
                "backup_s": round(backup_s, 2), "backup_summary": backup_out,
                "writer_longest_wait_ms": round(writer.longest * 1000), "writer_writes": writer.writes,
                "backup_peak_rss_mb": round(backup_rss / 1024),
                "restore_s": round(restore_s, 2), "restore_summary": restore_out,
                "peak_rss_mb_either": round(rss / 1024),
                "checked": f"{len(keys)} DUMPs, streams' groups and last ids identical",
            }, indent=2))
        finally:
            source.stop()
            target.stop()


if __name__ == "__main__":
    main()
