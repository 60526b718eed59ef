"""Bedrock's XGBoost model evaluator and trainer against the real xgboost (SPEC §11).

A features CSV in the documented format (realistic columns, missing values, values on float32
split boundaries) is built here; xgboost trains on its first part and `bedrock predict` must
equal `Booster.predict` on the held-out rows within 1e-6, for a model saved with feature names
(a pandas DataFrame) and one without. A model written by `bedrock train --features` must load
in `xgboost.Booster` and predict what `bedrock predict` does, within 1e-6."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from helpers import BEDROCK_BIN

FEATURES = [
    "rule_score", "rsi_14", "atr_14_pct", "close_vs_sma_50", "sma_50_slope_10", "volume_ratio_20",
    "range_atr", "stop_distance_atr", "reward_risk", "hour_of_day", "day_of_week", "side",
    "return_1", "return_10", "stop_entry",
]
HEADER = ["time", "market", "signal_type", "label", *FEATURES]
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def run(*args: str) -> subprocess.CompletedProcess:
    assert BEDROCK_BIN.exists(), f"{BEDROCK_BIN} missing: run `swift build` first"
    return subprocess.run([str(BEDROCK_BIN), *args], capture_output=True, text=True, timeout=300)


def make_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Signals with plausible feature values, 5 % missing at random plus a warm-up stretch, and a
    label that depends on a few of them through noise."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([
        rng.uniform(40, 100, n),                      # rule_score
        rng.uniform(5, 95, n),                        # rsi_14
        rng.lognormal(-4.5, 0.4, n),                  # atr_14_pct
        rng.normal(0, 0.02, n),                       # close_vs_sma_50
        rng.normal(0, 0.004, n),                      # sma_50_slope_10
        rng.lognormal(0, 0.5, n),                     # volume_ratio_20
        rng.gamma(2, 0.5, n),                         # range_atr
        rng.uniform(0.5, 3, n),                       # stop_distance_atr
        rng.uniform(1, 3, n),                         # reward_risk
        rng.integers(0, 24, n).astype(float),         # hour_of_day
        rng.integers(0, 7, n).astype(float),          # day_of_week
        rng.integers(0, 2, n).astype(float),          # side
        rng.normal(0, 0.01, n),                       # return_1
        rng.normal(0, 0.03, n),                       # return_10
        rng.integers(0, 2, n).astype(float),          # stop_entry
    ])
    x[rng.random(x.shape) < 0.05] = np.nan
    x[:30, 3:5] = np.nan  # SMA(50) warm-up
    score = (np.nan_to_num(x[:, 0], nan=70) - 70) / 15 + (50 - np.nan_to_num(x[:, 1], nan=50)) / 30 \
        + np.nan_to_num(x[:, 3]) * 40 * (2 * x[:, 11] - 1)
    y = (score + rng.logistic(0, 1, n) > 0).astype(int)
    return x, y


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    lines = [",".join(HEADER)]
    for i, (row, label) in enumerate(zip(x, y)):
        t = (START + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        values = ["" if np.isnan(v) else repr(float(v)) for v in row]
        lines.append(",".join([t, "BTC/USDT", "pullback", str(int(label)), *values]))
    path.write_text("\n".join(lines) + "\n")


def on_boundaries(model_json: dict, x: np.ndarray) -> tuple[np.ndarray, int]:
    """Copies of `x` whose values sit on the model's float32 split conditions: the double just
    below a condition (it rounds up to the condition as a float32, so xgboost sends it right,
    while a comparison in double would send it left), the condition itself and the float32 just
    below it. Returns the rows and how many doubles below a condition still round onto it."""
    conditions = []
    for tree in model_json["learner"]["gradient_booster"]["model"]["trees"]:
        for node, left in enumerate(tree["left_children"]):
            if left != -1:
                conditions.append((tree["split_indices"][node], np.float32(tree["split_conditions"][node])))
    rows, tricky = [], 0
    for k, (feature, cond) in enumerate(conditions[:300]):
        below = np.nextafter(np.float64(cond), -np.inf)
        tricky += int(below < np.float64(cond) and np.float32(below) == cond)
        for value in (below, np.float64(cond), np.float64(np.nextafter(cond, np.float32(-np.inf)))):
            row = x[k % len(x)].copy()
            row[feature] = value
            rows.append(row)
    return np.array(rows), tricky


def predict_with_bedrock(tmp: Path, model: Path, x: np.ndarray) -> np.ndarray:
    features, out = tmp / "heldout.csv", tmp / "p.csv"
    write_csv(features, x, np.zeros(len(x), dtype=int))
    p = run("predict", "--model", str(model), "--features", str(features), "--out", str(out))
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(out)
    assert list(table.columns) == ["time", "probability"]
    assert len(table) == len(x)
    return table["probability"].to_numpy()


@pytest.mark.parametrize(
    "with_names,params",
    [(False, {}), (True, {}), (False, {"base_score": 0.3})],
    ids=["numpy", "pandas-csv-feature-names", "explicit-base-score"])
def test_bedrock_predict_equals_xgboost(tmp_path, with_names, params):
    x, y = make_rows(3000, seed=11)
    train, held_out = slice(0, 2000), slice(2000, 3000)
    if with_names:  # the notebook path: the features CSV read by pandas, columns by name
        write_csv(tmp_path / "train.csv", x[train], y[train])
        table = pd.read_csv(tmp_path / "train.csv")
        data, labels = table[FEATURES], table["label"]
    else:
        data, labels = x[train], y[train]
    booster = xgb.train(
        {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.1, "seed": 1, **params},
        xgb.DMatrix(data, label=labels, missing=np.nan), num_boost_round=100)
    model = tmp_path / "model.json"
    booster.save_model(str(model))
    saved = json.loads(model.read_text())
    assert (saved["learner"]["feature_names"] == FEATURES) == with_names
    base_score = saved["learner"]["learner_model_param"]["base_score"]
    assert base_score.startswith("[")
    if params:  # an explicit base_score turns boost_from_average off; the stored value is it
        assert float(base_score.strip("[]")) == pytest.approx(0.3)

    boundary, tricky = on_boundaries(saved, x[held_out])
    assert tricky > 50, "the boundary rows must include doubles that only float32 rounding sends right"
    rows = np.vstack([x[held_out], boundary])
    frame = pd.DataFrame(rows, columns=FEATURES) if with_names else rows
    expected = booster.predict(xgb.DMatrix(frame, missing=np.nan))
    got = predict_with_bedrock(tmp_path, model, rows)
    assert np.max(np.abs(got - expected)) < 1e-6


def test_bedrock_trained_model_loads_in_xgboost(tmp_path):
    x, y = make_rows(2500, seed=5)
    features, model = tmp_path / "features.csv", tmp_path / "model.json"
    write_csv(features, x[:2000], y[:2000])
    p = run("train", "--features", str(features), "--out", str(model), "--folds", "3", "--trees", "80",
            "--depth", "5", "--learning-rate", "0.1", "--seed", "3")
    assert p.returncode == 0, p.stderr
    assert "walk-forward: 3 folds, 2000 rows" in p.stdout
    assert "baseline" in p.stdout and "auc" in p.stdout and "log_loss" in p.stdout
    auc_line = next(line for line in p.stdout.splitlines() if line.startswith("auc"))
    model_auc, baseline_auc = (float(v) for v in auc_line.split()[1:3])
    assert model_auc > 0.65 and model_auc > baseline_auc + 0.1, p.stdout

    booster = xgb.Booster()
    booster.load_model(str(model))
    assert booster.feature_names == FEATURES
    assert int(booster.num_boosted_rounds()) > 0
    rows = np.vstack([x[2000:], on_boundaries(json.loads(model.read_text()), x[2000:])[0]])
    expected = booster.predict(xgb.DMatrix(pd.DataFrame(rows, columns=FEATURES), missing=np.nan))
    got = predict_with_bedrock(tmp_path, model, rows)
    assert np.max(np.abs(got - expected)) < 1e-6
    # xgboost's save of the loaded model is read back by Bedrock too, with the same predictions.
    resaved = tmp_path / "resaved.json"
    booster.save_model(str(resaved))
    assert np.max(np.abs(predict_with_bedrock(tmp_path, resaved, rows) - expected)) < 1e-6


def test_models_and_files_that_do_not_fit_are_refused(tmp_path):
    x, y = make_rows(300, seed=2)
    features = tmp_path / "features.csv"
    write_csv(features, x, y)
    narrow = tmp_path / "narrow.json"
    xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(x[:, :3], label=y), 3).save_model(str(narrow))
    p = run("predict", "--model", str(narrow), "--features", str(features))
    assert p.returncode == 1
    assert "the model has 3 features (num_feature)" in p.stderr

    regression = tmp_path / "regression.json"
    xgb.train({"objective": "reg:squarederror", "max_depth": 2}, xgb.DMatrix(x, label=y), 3).save_model(str(regression))
    p = run("predict", "--model", str(regression), "--features", str(features))
    assert p.returncode == 1
    assert "objective is reg:squarederror; Bedrock needs binary:logistic" in p.stderr

    bad = tmp_path / "bad.csv"
    lines = features.read_text().splitlines()
    lines[5] = lines[5].replace(",pullback,", ",pullback,x", 1)
    bad.write_text("\n".join(lines) + "\n")
    p = run("train", "--features", str(bad), "--out", str(tmp_path / "m.json"))
    assert p.returncode == 1
    assert f"{bad}: line 6: label" in p.stderr
    assert not (tmp_path / "m.json").exists()

    p = run("train", "--features", str(features), "--out", str(tmp_path / "missing" / "m.json"))
    assert p.returncode == 1
    assert f"{tmp_path / 'missing'} is not a writable directory" in p.stderr

    p = run("train", "--features", str(features), "--out", str(tmp_path / "m.json"), "--learning-rate", "0")
    assert p.returncode == 2
    assert "--learning-rate must be a number in (0.0, 1.0]" in p.stderr
    p = run("train", "--features", str(features), "--out", str(tmp_path / "m.json"), "--folds", "30")
    assert p.returncode == 2
    assert "--folds must be 1…20, got 30" in p.stderr


def test_interop_on_bedrock_features_output(tmp_path):
    """The quant's path end to end: `bedrock features` of the sample market, xgboost trains on the
    first 70 % of the rows as pandas reads them, `bedrock predict` on the held-out rows equals
    `Booster.predict` within 1e-6; and `bedrock train --data` on the same market writes a model
    that xgboost loads and predicts those rows with as Bedrock does."""
    data = tmp_path / "data"
    assert run("sample-data", "--out", str(data), "--bars", "6000").returncode == 0
    features = tmp_path / "features.csv"
    p = run("features", "--data", str(data / "BTCUSDT-1h.csv"), "--strategy", "pullback", "--out", str(features))
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(features)
    assert list(table.columns) == HEADER and len(table) > 500
    assert table[FEATURES].isna().any().any(), "warm-up and stop-less signals leave values missing"
    cut = int(len(table) * 0.7)
    train, held_out = table.iloc[:cut], table.iloc[cut:]
    booster = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.1},
                        xgb.DMatrix(train[FEATURES], label=train["label"], missing=np.nan), num_boost_round=150)
    model = tmp_path / "xgb.json"
    booster.save_model(str(model))
    held = tmp_path / "held_out.csv"
    held_out.to_csv(held, index=False)
    out = tmp_path / "p.csv"
    p = run("predict", "--model", str(model), "--features", str(held), "--out", str(out))
    assert p.returncode == 0, p.stderr
    expected = booster.predict(xgb.DMatrix(held_out[FEATURES], missing=np.nan))
    assert np.max(np.abs(pd.read_csv(out)["probability"].to_numpy() - expected)) < 1e-6

    ours = tmp_path / "bedrock.json"
    p = run("train", "--data", str(data / "BTCUSDT-1h.csv"), "--strategy", "pullback", "--out", str(ours),
            "--folds", "4", "--trees", "60", "--depth", "4")
    assert p.returncode == 0, p.stderr
    loaded = xgb.Booster()
    loaded.load_model(str(ours))
    p = run("predict", "--model", str(ours), "--features", str(held), "--out", str(out))
    assert p.returncode == 0, p.stderr
    expected = loaded.predict(xgb.DMatrix(held_out[FEATURES], missing=np.nan))
    assert np.max(np.abs(pd.read_csv(out)["probability"].to_numpy() - expected)) < 1e-6
