"""Keeps two 1M-bar backtest jobs running on the gateway until the stop file appears."""
import json, os, sys, time, urllib.request
port, token, stop = sys.argv[1], sys.argv[2], sys.argv[3]
def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())
running, done = [], 0
while not os.path.exists(stop):
    while len(running) < 2:
        running.append(call("POST", "/v1/backtest/submit", {"strategy": "pullback", "dataset": "big.csv", "initial_balance": 100000, "commission": 0.001, "slippage": 0})["task_id"])
    time.sleep(0.2)
    still = []
    for t in running:
        st = call("GET", f"/v1/backtest/status/{t}")["status"]
        if st in ("PENDING", "RUNNING"): still.append(t)
        else: done += 1
    running = still
print(f"driver: {done} backtests of 1,000,000 bars completed during the run")
