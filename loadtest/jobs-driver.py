"""Keeps two 1M-bar jobs running on the gateway until the stop file appears: backtests, or with
a fourth argument `train`, model trainings (pullback's signals, 200 trees of depth 6, every tree
grown)."""
import json, os, sys, time, urllib.request
port, token, stop = sys.argv[1], sys.argv[2], sys.argv[3]
kind = sys.argv[4] if len(sys.argv) > 4 else "backtest"
def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())
job = {"strategy": "pullback", "dataset": "big.csv", "initial_balance": 100000, "commission": 0.001, "slippage": 0}
if kind == "train":
    job |= {"model_name": "bench", "folds": 5,
            "hyperparameters": {"trees": 200, "depth": 6, "early_stopping_rounds": 0}}
submit = "/v1/training/submit" if kind == "train" else "/v1/backtest/submit"
running, done, seconds = [], 0, []
while not os.path.exists(stop):
    while len(running) < 2:
        running.append((call("POST", submit, job)["task_id"], time.monotonic()))
    time.sleep(0.2)
    still = []
    for t, started in running:
        st = call("GET", f"/v1/backtest/status/{t}")["status"]
        if st in ("PENDING", "RUNNING"): still.append((t, started))
        else:
            done += 1
            seconds.append(time.monotonic() - started)
    running = still
what = "trainings (5 folds + the final model)" if kind == "train" else "backtests"
mean = f", {sum(seconds) / len(seconds):.1f} s each from submission" if seconds else ""
print(f"driver: {done} {what} of 1,000,000 bars completed during the run{mean}")
