"""Black-box tests of `bedrock backtest` and `bedrock optimize` (SPEC §2, §8, §9): what a user
sees on stdout and stderr and the exit codes. Data: a small generated CSV (a sine wave, so
sma_cross trades several times)."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
from pathlib import Path

import pytest

from helpers import BEDROCK_BIN


def run(*args: str) -> subprocess.CompletedProcess:
    assert BEDROCK_BIN.exists(), f"{BEDROCK_BIN} missing: run `swift build` first"
    return subprocess.run([str(BEDROCK_BIN), *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """600 hourly bars from 2024-01-01T00:00:00Z, close = 100 + 10 sin(2π i / 100)."""
    path = tmp_path_factory.mktemp("cli") / "wave.csv"
    rows = ["timestamp,open,high,low,close,volume"]
    for i in range(600):
        c = 100 + 10 * math.sin(2 * math.pi * i / 100)
        o = 100 + 10 * math.sin(2 * math.pi * (i - 1) / 100)
        rows.append(f"{1704067200 + 3600 * i},{o:.6f},{max(o, c) + 0.5:.6f},{min(o, c) - 0.5:.6f},{c:.6f},1000")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_json_report(data):
    p = run("backtest", "--data", str(data), "--strategy", "sma_cross", "--param", "fast=5",
            "--param", "slow=20", "--balance", "10000", "--commission", "0.001", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    r = json.loads(p.stdout)  # stdout is the report and nothing else
    assert r["strategy_name"] == "sma_cross"
    assert r["start_date"] == "2024-01-01T00:00:00Z"
    assert r["end_date"] == "2024-01-25T23:00:00Z"  # bar 599 = 599 h later
    assert r["parameters"] == {"fast": 5, "slow": 20}
    assert r["initial_balance"] == 10000
    assert len(r["equity_curve"]) == 600
    assert r["equity_curve"][0] == ["2024-01-01T00:00:00Z", 10000]
    assert r["total_trades"] == len(r["trades"]) >= 4
    assert r["winning_trades"] + r["losing_trades"] <= r["total_trades"]
    # balance = initial + Σ net pnl; the curve ends at the final balance
    assert math.isclose(r["final_balance"], 10000 + sum(t["pnl"] for t in r["trades"]), rel_tol=1e-9)
    assert math.isclose(r["equity_curve"][-1][1], r["final_balance"], rel_tol=1e-9)
    assert math.isclose(r["roi"], (r["final_balance"] - 10000) / 100, rel_tol=1e-9)
    assert math.isclose(r["total_commission"], sum(t["commission"] for t in r["trades"]), rel_tol=1e-9)
    t = r["trades"][0]
    assert list(t)[:9] == ["entry_time", "exit_time", "side", "entry_price", "exit_price", "size",
                           "pnl", "commission", "slippage"]
    assert t["side"] == "BUY" and t["exit_reason"] in ("SIGNAL", "END_OF_DATA")
    assert t["entry_time"].endswith(":00:00Z")
    for key in ("sharpe_ratio", "sortino_ratio", "calmar_ratio", "omega_ratio", "profit_factor",
                "max_drawdown", "win_rate", "avg_win", "avg_loss", "exposure_pct", "total_slippage"):
        assert key in r


def test_csv_and_text(data):
    p = run("backtest", "--data", str(data), "--strategy", "sma_cross", "--param", "fast=5", "--format", "csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.reader(io.StringIO(p.stdout)))
    assert rows[0] == ["entry_time", "exit_time", "side", "entry_price", "exit_price", "size", "pnl",
                       "commission", "slippage", "exit_reason"]
    j = json.loads(run("backtest", "--data", str(data), "--strategy", "sma_cross", "--param", "fast=5",
                       "--format", "json").stdout)
    assert len(rows) == 1 + j["total_trades"]
    text = run("backtest", "--data", str(data), "--strategy", "sma_cross", "--param", "fast=5").stdout
    assert text.startswith("Backtest: sma_cross (fast=5, slow=20)\n")
    assert "Sharpe ratio" in text and "Max drawdown" in text


@pytest.mark.parametrize("args, needle", [
    (["--strategy", "nope"], "valid: oops, pullback, sma_cross"),
    (["--strategy", "sma_cross", "--param", "speed=3"], "valid: fast"),
    (["--strategy", "sma_cross", "--param", "fast=30"], "must be smaller than slow"),
    (["--strategy", "sma_cross", "--param", "fast"], "expected name=number"),
    (["--strategy", "sma_cross", "--format", "xml"], "xml"),
    (["--strategy", "sma_cross", "--commission", "-1"], "--commission"),
])
def test_bad_arguments_exit_2(data, args, needle):
    p = run("backtest", "--data", str(data), *args)
    assert p.returncode == 2
    assert p.stdout == ""
    assert needle in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_file_problems_exit_1(tmp_path, data):
    p = run("backtest", "--data", str(tmp_path / "missing.csv"), "--strategy", "sma_cross")
    assert p.returncode == 1 and "missing.csv" in p.stderr and p.stdout == ""
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,x,0.5,1.5,10\n")
    p = run("backtest", "--data", str(bad), "--strategy", "sma_cross")
    assert p.returncode == 1 and f"{bad}:3:" in p.stderr
    short = tmp_path / "short.csv"
    short.write_text("\n".join(data.read_text().splitlines()[:16]) + "\n")  # 15 bars
    p = run("backtest", "--data", str(short), "--strategy", "sma_cross")
    assert p.returncode == 1 and "15 bars" in p.stderr and "warm up" in p.stderr


def test_optimize_ranks_and_is_reproducible(data):
    args = ["optimize", "--data", str(data), "--strategy", "sma_cross", "--grid", "fast=3:9:2",
            "--grid", "slow=15,20,30", "--metric", "roi", "--format", "json"]
    p = run(*args)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["metric"] == "roi" and r["evaluated"] == 12 and r["failed"] == 0
    scores = [x["score"] for x in r["results"]]
    assert scores == sorted(scores, reverse=True)
    assert [x["rank"] for x in r["results"]] == list(range(1, 13))
    # the same ranking on one thread
    assert json.loads(run(*args, "--threads", "1").stdout) == r
    # random search: same seed, same sets
    rnd = ["optimize", "--data", str(data), "--strategy", "sma_cross", "--grid", "fast=2:12",
           "--grid", "slow=14:40", "--method", "random", "--trials", "8", "--seed", "3", "--format", "json"]
    a, b = json.loads(run(*rnd).stdout), json.loads(run(*rnd).stdout)
    assert a == b and a["evaluated"] == 8
    c = json.loads(run(*rnd[:-4], "--seed", "4", "--format", "json").stdout)
    assert [x["parameters"] for x in c["results"]] != [x["parameters"] for x in a["results"]]


def test_optimize_walk_forward_and_errors(data):
    p = run("optimize", "--data", str(data), "--strategy", "sma_cross", "--grid", "fast=3,5",
            "--grid", "slow=10,20", "--walk-forward", "2", "--format", "json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    # 600 bars, 2 folds → 5 blocks of 120 bars
    assert [(f["in_sample"]["first_bar"], f["in_sample"]["bars"]) for f in r["folds"]] == [(0, 360), (120, 360)]
    assert [(f["out_of_sample"]["first_bar"], f["out_of_sample"]["bars"]) for f in r["folds"]] == [(360, 120), (480, 120)]
    assert all("in_sample_score" in f and "out_of_sample_score" in f for f in r["folds"])
    means = [c["mean_out_of_sample"] for c in r["ranking"]]
    assert means == sorted(means, reverse=True)
    p = run("optimize", "--data", str(data), "--strategy", "sma_cross", "--grid", "fast=3", "--metric", "sharpe")
    assert p.returncode == 2 and "sharpe_ratio" in p.stderr
    p = run("optimize", "--data", str(data), "--strategy", "sma_cross", "--grid", "speed=3")
    assert p.returncode == 2 and "valid: fast" in p.stderr
    p = run("optimize", "--data", str(data), "--strategy", "sma_cross", "--grid", "fast=3",
            "--walk-forward", "40")
    assert p.returncode == 1 and "too few" in p.stderr
