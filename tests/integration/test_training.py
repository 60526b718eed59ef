"""Black-box tests of model training as a job (SPEC §11): `training.submit` over the socket and
REST, progress and the completed report, the model filed in the registry as a candidate, the
dataset digest equal to `bedrock features` output, roles, bad input, cancellation, and a data set
with too few signals. The real gateway on a real redis-server.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from helpers import wait_until
from test_jobs import Socket, rest, rest_json, run

SMALL = "BTCUSDT-1h.csv"  # 3,000 bars: about 390 pullback signals
LONG = "long-1h.csv"  # 200,000 bars: long enough to cancel mid-run
TINY = "tiny-1h.csv"  # 120 bars: too few signals to train on
QUICK = {"trees": 30, "depth": 3, "early_stopping_rounds": 0}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("training-datasets")
    r = run("sample-data", "--out", str(d), "--bars", "3000")
    assert r.returncode == 0, r.stderr
    big = tmp_path_factory.mktemp("long")
    r = run("sample-data", "--out", str(big), "--bars", "200000", timeout=120)
    assert r.returncode == 0, r.stderr
    (big / SMALL).rename(d / LONG)
    lines = (d / SMALL).read_text().splitlines()
    (d / TINY).write_text("\n".join(lines[:121]) + "\n")
    return d


def start(start_gateway, datasets, **jobs):
    return start_gateway({"jobs": {"data_dir": str(datasets), **jobs}})


def train_params(**extra) -> dict:
    return {"strategy": "pullback", "dataset": SMALL, "model_name": "pullback-btc", "folds": 3,
            "hyperparameters": QUICK, **extra}


def test_training_files_a_candidate_model_with_its_out_of_sample_metrics(start_gateway, datasets, tmp_path):
    gw = start(start_gateway, datasets)
    s = Socket(gw)
    task = s.submit(train_params(), method="training.submit")
    assert task.startswith("train-")
    progress, done = s.job_frames(task, timeout=120)
    values = [p["progress"] for p in progress]
    assert values and values == sorted(values) and values[-1] == 1
    assert done["status"] == "COMPLETED" and done["kind"] == "train", done
    model = done["report"]["model"]
    assert (model["name"], model["version"], model["source"]) == ("pullback-btc", 1, "trained")
    assert (model["status"], model["traffic_percentage"]) == ("candidate", 0)
    assert model["strategy"] == "pullback" and model["params"]["ema_period"] > 0
    assert model["hyperparameters"]["trees"] == 30 and model["hyperparameters"]["depth"] == 3
    assert 1 <= model["trees"] <= 30

    # The dataset is what `bedrock features` writes for the same file and strategy, digest included.
    out = tmp_path / "features.csv"
    r = run("features", "--data", str(datasets / SMALL), "--strategy", "pullback", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    dataset = model["dataset"]
    assert dataset["id"] == SMALL and dataset["rows"] == len(rows) > 100
    assert dataset["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (dataset["start"], dataset["end"]) == (rows[0]["time"], rows[-1]["time"])

    # Walk-forward metrics beside the always-majority baseline.
    metrics = model["metrics"]
    assert metrics["folds"] == 3 and metrics["rows"] == len(rows)
    for side in ("model", "baseline"):
        for key in ("accuracy", "precision", "recall", "f1", "auc", "log_loss", "count", "positives"):
            assert key in metrics[side], (side, key)
        assert 0 <= metrics[side]["accuracy"] <= 1 and metrics[side]["log_loss"] > 0
    tested = metrics["model"]["count"]
    assert tested == metrics["baseline"]["count"] == sum(f["test_rows"] for f in metrics["fold_ranges"])
    positives = sum(int(r["label"]) for r in rows[len(rows) - tested:])
    assert metrics["model"]["positives"] == positives
    # Always-majority: its accuracy is the share of the majority label among the tested rows, when
    # every fold's training majority is the same label (losers, on this market).
    assert metrics["baseline"]["accuracy"] == pytest.approx(max(positives, tested - positives) / tested)

    # The same answers over REST: the status with the model, the registry, the fold CSV.
    status, body = rest_json(gw, f"/v1/training/status/{task}")
    assert status == 200 and body["status"] == "COMPLETED" and body["model"] == model
    assert body["request"]["model_name"] == "pullback-btc" and body["request"]["folds"] == 3
    status, listing = rest_json(gw, "/v1/models")
    assert status == 200
    assert [(m["name"], m["version"]) for m in listing["models"]] == [("pullback-btc", 1)]
    status, _, raw = rest(gw, f"/v1/backtest/report/{task}/export?format=csv")
    assert status == 200
    folds = list(csv.DictReader(io.StringIO(raw.decode())))
    assert [f["fold"] for f in folds] == ["1", "2", "3"]
    assert [int(f["test_rows"]) for f in folds] == [f["test_rows"] for f in metrics["fold_ranges"]]

    # A second training of the same name is its next version.
    status, _, raw = rest(gw, "/v1/training/submit", role="TRADER", method="POST", body=train_params())
    assert status == 200, raw
    second = json.loads(raw)["task_id"]
    wait_until(lambda: rest_json(gw, f"/v1/training/status/{second}")[1]["status"] == "COMPLETED", 120, "second training")
    assert rest_json(gw, f"/v1/training/status/{second}")[1]["model"]["version"] == 2


def test_roles(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    viewer = Socket(gw, role="VIEWER", sub="vic")
    answer = viewer.call("training.submit", train_params())
    assert answer["type"] == "error" and answer["error_code"] == "FORBIDDEN"
    status, _, _ = rest(gw, "/v1/training/submit", role="VIEWER", method="POST", body=train_params())
    assert status == 403
    owner = Socket(gw, sub="alice")
    task = owner.submit(train_params(dataset=LONG, hyperparameters={"trees": 500, "depth": 6}), method="training.submit")
    owner.first_progress(task, timeout=60)
    assert viewer.call("training.status", {"task_id": task})["result"]["status"] == "RUNNING"
    status, _, _ = rest(gw, f"/v1/training/cancel/{task}", role="TRADER", method="POST", sub="mallory")
    assert status == 403
    status, _, _ = rest(gw, f"/v1/training/cancel/{task}", role="VIEWER", method="POST", sub="alice")
    assert status == 403
    status, _, raw = rest(gw, f"/v1/training/cancel/{task}", role="TRADER", method="POST", sub="alice")
    assert status == 200 and json.loads(raw)["status"] == "CANCELLED", raw
    assert owner.job_frames(task, timeout=10)[1]["status"] == "CANCELLED"
    # A cancelled training files nothing.
    assert rest_json(gw, "/v1/models")[1]["models"] == []


@pytest.mark.parametrize("change, message", [
    ({"model_name": None}, "model_name is required"),
    ({"model_name": "has space"}, "model_name must be"),
    ({"model_name": "x" * 65}, "model_name must be"),
    ({"hyperparameters": {"depth": 0}}, "depth"),
    ({"hyperparameters": {"learning_rate": 2}}, "learning_rate"),
    ({"hyperparameters": {"leaves": 8}}, "leaves"),
    ({"hyperparameters": [1, 2]}, "hyperparameters must be an object"),
    ({"folds": 0}, "folds"),
    ({"folds": 21}, "folds"),
    ({"strategy": "moon"}, "strategy 'moon' is unknown"),
    ({"dataset": "nope.csv"}, f"does not exist; valid: {SMALL}"),
])
def test_bad_input_is_refused_and_starts_nothing(start_gateway, datasets, change, message):
    gw = start(start_gateway, datasets)
    params = {k: v for k, v in {**train_params(), **change}.items() if v is not None}
    status, body = rest_json(gw, "/v1/training/submit", role="TRADER", method="POST", body=params)
    assert status == 400 and body["error_code"] == "BAD_REQUEST", body
    assert message in body["message"], body
    with gw.redis() as r:
        assert r.execute("KEYS", "bedrock:job:*") == []


def test_too_few_signals_fail_the_job_saying_why(start_gateway, datasets):
    gw = start(start_gateway, datasets)
    s = Socket(gw)
    task = s.submit(train_params(dataset=TINY), method="training.submit")
    _, done = s.job_frames(task, timeout=60)
    assert done["status"] == "FAILED", done
    assert "signals" in done["reason"] or "bars" in done["reason"], done
    assert rest_json(gw, "/v1/models")[1]["models"] == []


def test_cli_trains_on_data_files_as_on_their_features(datasets, tmp_path):
    """`bedrock train --data F --strategy S` trains on exactly the rows `bedrock features` writes
    for F and S: the two models are the same file, and the printed metrics the same table."""
    features = tmp_path / "features.csv"
    r = run("features", "--data", str(datasets / SMALL), "--strategy", "pullback", "--out", str(features))
    assert r.returncode == 0, r.stderr
    common = ["--folds", "3", "--trees", "20", "--depth", "3"]
    a = run("train", "--data", str(datasets / SMALL), "--strategy", "pullback", "--out", str(tmp_path / "a.json"), *common)
    b = run("train", "--features", str(features), "--out", str(tmp_path / "b.json"), *common)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    table = lambda out: [line for line in out.splitlines() if not line.startswith("model:")]
    assert table(a.stdout) == table(b.stdout) and "baseline" in a.stdout
    for args, message in [
        (["--out", str(tmp_path / "c.json")], "give --features FILE.csv, or --data FILE... with --strategy"),
        (["--data", str(datasets / SMALL), "--out", str(tmp_path / "c.json")], "--data needs --strategy"),
        (["--features", str(features), "--data", str(datasets / SMALL), "--strategy", "pullback",
          "--out", str(tmp_path / "c.json")], "not both"),
        (["--data", str(datasets / SMALL), "--strategy", "moon", "--out", str(tmp_path / "c.json")], "moon"),
    ]:
        r = run("train", *args)
        assert r.returncode in (1, 2) and message in r.stderr, (args, r.stderr)
        assert not (tmp_path / "c.json").exists()
