"""Black-box tests of `bedrock features` (SPEC §11): the CSV a quant trains on — its columns, no
look-ahead when the data ends earlier, labels that agree with the backtester's trades, and clear
errors. Data: the synthetic sample market (`bedrock sample-data`)."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from helpers import BEDROCK_BIN

FEATURES = ["rule_score", "rsi_14", "atr_14_pct", "close_vs_sma_50", "sma_50_slope_10", "volume_ratio_20",
            "range_atr", "stop_distance_atr", "reward_risk", "hour_of_day", "day_of_week", "side", "return_1",
            "return_10", "stop_entry"]
STRATEGIES = ["pullback", "oops", "sma_cross"]


def run(*args: str) -> subprocess.CompletedProcess:
    assert BEDROCK_BIN.exists(), f"{BEDROCK_BIN} missing: run `swift build` first"
    return subprocess.run([str(BEDROCK_BIN), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    p = run("sample-data", "--out", str(out), "--bars", "3000")
    assert p.returncode == 0, p.stderr
    return out / "BTCUSDT-1h.csv"


def features(data: Path, strategy: str, out: Path, *extra: str) -> list[dict[str, str]]:
    p = run("features", "--data", str(data), "--strategy", strategy, "--out", str(out), *extra)
    assert p.returncode == 0, p.stderr
    with out.open(newline="") as f:
        return list(csv.DictReader(f))


def test_header_columns_and_values(sample, tmp_path):
    out = tmp_path / "f.csv"
    rows = features(sample, "pullback", out)
    assert out.read_text().splitlines()[0].split(",") == ["time", "market", "signal_type", "label", *FEATURES]
    assert len(rows) > 50
    times = [r["time"] for r in rows]
    assert times == sorted(times) and all(t.endswith(":00:00Z") for t in times)
    assert {r["market"] for r in rows} == {"BTCUSDT"}
    assert {r["signal_type"] for r in rows} == {"PULLBACK_BUY"}
    assert {r["label"] for r in rows} == {"0", "1"}
    for r in rows:
        assert r["side"] == "1.0" and r["stop_entry"] == "0.0"
        assert 0 <= float(r["rsi_14"]) <= 100 and float(r["atr_14_pct"]) > 0
        assert float(r["hour_of_day"]) == datetime.fromisoformat(r["time"].replace("Z", "+00:00")).hour
    # SMA(50) ten bars back is missing only in the first bars: an empty field, never "nan".
    assert all(r["sma_50_slope_10"] != "nan" for r in rows)
    oops = features(sample, "oops", tmp_path / "o.csv")
    assert {r["stop_entry"] for r in oops} == {"1.0"}
    assert {r["signal_type"] for r in oops} <= {"OOPS_BUY", "OOPS_SELL"}
    cross = features(sample, "sma_cross", tmp_path / "c.csv", "--param", "fast=5", "--param", "slow=30")
    assert cross and all(r["stop_distance_atr"] == "" and r["reward_risk"] == "" for r in cross)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_cutting_the_data_never_changes_earlier_features(sample, tmp_path, strategy):
    full = features(sample, strategy, tmp_path / "full.csv")
    lines = sample.read_text().splitlines()
    bar_index = {line.split(",")[0]: i for i, line in enumerate(lines[1:])}
    for n in (5, len(full) // 2, len(full) - 3):
        # Keep the bars up to row n's signal bar and the next one (where its entry may fill).
        last_bar = bar_index[full[n]["time"]] + 1
        cut = tmp_path / f"cut-{n}.csv"
        cut.write_text("\n".join(lines[:last_bar + 2]) + "\n")
        part = features(cut, strategy, tmp_path / f"part-{n}.csv")
        assert len(part) >= n + 1
        for a, b in zip(part[:n + 1], full[:n + 1]):
            a = {k: v for k, v in a.items() if k not in ("label", "market")}
            b = {k: v for k, v in b.items() if k not in ("label", "market")}
            assert a == b


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_labels_match_the_backtesters_trades(sample, tmp_path, strategy):
    rows = features(sample, strategy, tmp_path / "f.csv", "--commission", "0.002")
    label_at = {r["time"]: r["label"] for r in rows}
    p = run("backtest", "--data", str(sample), "--strategy", strategy, "--commission", "0.002",
            "--no-arbiter", "--no-risk-guard", "--format", "json")
    assert p.returncode == 0, p.stderr
    trades = json.loads(p.stdout)["trades"]
    assert trades
    for t in trades:
        # The backtester takes a subset of the signals: each trade's signal bar is the bar before its entry.
        entry = datetime.fromisoformat(t["entry_time"].replace("Z", "+00:00"))
        signal_time = (entry - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert label_at[signal_time] == ("1" if t["pnl"] > 0 else "0"), t


def test_bad_input(sample, tmp_path):
    out = tmp_path / "never.csv"
    cases = [
        (["--data", str(sample), "--strategy", "nope", "--out", str(out)], 2, "nope"),
        (["--data", str(sample), "--strategy", "pullback"], 2, "--out"),
        (["--data", str(sample), "--strategy", "sma_cross", "--param", "fast=x", "--out", str(out)], 2, "fast=x"),
        (["--data", str(sample), "--strategy", "sma_cross", "--param", "depth=3", "--out", str(out)], 2, "depth"),
        (["--data", str(sample), "--strategy", "pullback", "--commission", "-1", "--out", str(out)], 2, "--commission"),
        (["--data", str(tmp_path / "missing.csv"), "--strategy", "pullback", "--out", str(out)], 1, "missing.csv"),
    ]
    for args, code, word in cases:
        p = run("features", *args)
        assert p.returncode == code, (args, p.stderr)
        assert word in p.stderr and p.stderr.startswith("bedrock: "), p.stderr
        assert not out.exists()
    p = run("features", "--data", str(sample), "--strategy", "pullback", "--out", str(tmp_path / "no" / "f.csv"))
    assert p.returncode == 1 and "cannot write" in p.stderr
