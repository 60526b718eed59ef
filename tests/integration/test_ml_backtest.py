"""Backtests and optimisations with an ML model from the command line (SPEC §11): a model trained
with xgboost on `bedrock features` output, used by `bedrock backtest`/`optimize --ml-model`, with
`--compare rules_only` beside it. Data: the synthetic sample market (`bedrock sample-data`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb

from helpers import BEDROCK_BIN


def run(*args: str) -> subprocess.CompletedProcess:
    assert BEDROCK_BIN.exists(), f"{BEDROCK_BIN} missing: run `swift build` first"
    return subprocess.run([str(BEDROCK_BIN), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    """The sample market and an xgboost model trained on its pullback features."""
    tmp = tmp_path_factory.mktemp("mlbt")
    assert run("sample-data", "--out", str(tmp), "--bars", "4000").returncode == 0
    data = tmp / "BTCUSDT-1h.csv"
    features = tmp / "features.csv"
    p = run("features", "--data", str(data), "--strategy", "pullback", "--out", str(features))
    assert p.returncode == 0, p.stderr
    frame = pd.read_csv(features)
    x, y = frame.iloc[:, 4:], frame["label"]
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3},
                        xgb.DMatrix(x, label=y), num_boost_round=20)
    model = tmp / "pullback.json"
    booster.save_model(str(model))
    return data, model


def backtest(data: Path, *extra: str) -> dict:
    p = run("backtest", "--data", str(data), "--strategy", "pullback", "--format", "json", *extra)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_backtest_with_a_model_beside_the_rules_only_run(setup):
    data, model = setup
    report = backtest(data, "--ml-model", str(model), "--compare", "rules_only")
    assert report["ml_model"] == "pullback.json"
    assert report["scored_signals"] == report["signals_generated"] > 10
    rules = report["compare"]["rules_only"]
    assert "trades" not in rules and len(rules["equity_curve"]) == 4000
    assert rules["ml_model"] is None and rules["scored_signals"] == 0
    plain = backtest(data)
    assert plain["ml_model"] is None and "compare" not in plain
    del plain["trades"]
    assert rules == plain
    # The model's scores move the arbiter: another set of entries than rules alone.
    assert report["rejected_signals"] != plain["rejected_signals"]
    text = run("backtest", "--data", str(data), "--strategy", "pullback", "--ml-model", str(model),
               "--compare", "rules_only").stdout
    assert "ML model           pullback.json, " in text and "Rules only         ROI " in text


def test_optimize_with_a_model(setup):
    data, model = setup
    p = run("optimize", "--data", str(data), "--strategy", "pullback", "--grid", "reward_risk=1.5,2",
            "--metric", "roi", "--format", "json", "--ml-model", str(model), "--compare", "rules_only")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["ml_model"] == "pullback.json"
    assert len(r["results"]) == len(r["compare"]["rules_only"]["results"]) == 2
    plain = json.loads(run("optimize", "--data", str(data), "--strategy", "pullback", "--grid",
                           "reward_risk=1.5,2", "--metric", "roi", "--format", "json").stdout)
    assert plain["ml_model"] is None
    assert r["compare"]["rules_only"] == {k: v for k, v in plain.items() if k != "ml_model"}


def test_bad_model_arguments(setup, tmp_path):
    data, model = setup
    base = ["backtest", "--data", str(data), "--strategy", "pullback"]
    p = run(*base, "--ml-model", str(model), "--compare", "llm_only")
    assert p.returncode == 2 and "--compare 'llm_only' is not valid; valid: rules_only" in p.stderr
    p = run(*base, "--compare", "rules_only")
    assert p.returncode == 2 and "needs --ml-model" in p.stderr
    # The model acts through the arbiter: without it the comparison would credit the model with
    # the arbiter's threshold.
    p = run(*base, "--ml-model", str(model), "--compare", "rules_only", "--no-arbiter")
    assert p.returncode == 2 and "--ml-model needs the arbiter" in p.stderr and p.stdout == ""
    p = run(*base, "--ml-model", str(tmp_path / "none.json"))
    assert p.returncode == 1 and "none.json" in p.stderr
    narrow = tmp_path / "narrow.json"
    text = model.read_text().replace('"num_feature":"15"', '"num_feature":"3"')
    assert text != model.read_text()
    narrow.write_text(text)
    p = run(*base, "--ml-model", str(narrow))
    assert p.returncode == 1 and "narrow.json" in p.stderr and p.stdout == ""
