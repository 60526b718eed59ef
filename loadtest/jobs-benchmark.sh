#!/usr/bin/env bash
# Issue 5 benchmark: 1,000 subscribers receiving a stream while two 1,000,000-bar backtests run.
# Starts redis-server and a release gateway on free ports, writes a 1M-bar dataset, then for each
# RATE runs `loadtest fanout` idle and again while loadtest/jobs-driver.py keeps two backtest jobs
# (JOB=train: two model-training jobs) running; prints p99 idle vs loaded.
# Usage: RATES="200 1000" [JOB=train] loadtest/jobs-benchmark.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd); cd "$REPO"
export PATH=/opt/swift/usr/bin:$PATH
SCRATCH=${SCRATCH:-.build}; BIN="$SCRATCH/release"; RATES=${RATES:-"200 1000"}; DURATION=${DURATION:-15}; JOB=${JOB:-backtest}
swift build -c release --scratch-path "$SCRATCH" --product bedrock >&2
swift build -c release --scratch-path "$SCRATCH" --product loadtest >&2
W=$(mktemp -d /tmp/bedrock-jobbench.XXXXXX); mkdir -p "$W/data/datasets"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(free_port); GP=$(free_port)
export BEDROCK_JWT_SECRET=bench-secret-0123456789abcdef0123456789abcd
"$BIN/bedrock" sample-data --out "$W/gen" --bars 1000000 --data-dir "$W/data" >/dev/null
cp "$W/gen/BTCUSDT-1h.csv" "$W/data/datasets/big.csv"
redis-server --port "$RP" --save '' --appendonly no --daemonize yes --dir "$W" >/dev/null
ulimit -n 20000
BEDROCK_SERVER_MAX_CONNECTIONS=20000 BEDROCK_SERVER_HEARTBEAT_INTERVAL_S=10 BEDROCK_SERVER_HEARTBEAT_TIMEOUT_S=30 \
  "$BIN/bedrock" serve --config config/bedrock.json --port "$GP" --redis "redis://127.0.0.1:$RP" --data-dir "$W/data" >"$W/serve.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null; redis-cli -p $RP shutdown nosave >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$GP/health" >/dev/null && break; sleep 0.2; done
T=$("$BIN/bedrock" token --config config/bedrock.json --data-dir "$W/data" --sub bench --role TRADER --ttl 7200)
for rate in $RATES; do
  "$BIN/loadtest" fanout --connections 1000 --rate "$rate" --duration "$DURATION" --port "$GP" \
    --redis "redis://127.0.0.1:$RP" --server-pid "$SPID" --quiet --json "$W/idle.json" >/dev/null
  rm -f "$W/stop"; python3 loadtest/jobs-driver.py "$GP" "$T" "$W/stop" "$JOB" >"$W/driver.log" 2>&1 & DRIVER=$!
  sleep 3
  "$BIN/loadtest" fanout --connections 1000 --rate "$rate" --duration "$DURATION" --port "$GP" \
    --redis "redis://127.0.0.1:$RP" --server-pid "$SPID" --quiet --json "$W/loaded.json" >/dev/null
  touch "$W/stop"; wait "$DRIVER"
  python3 - "$W/idle.json" "$W/loaded.json" "$rate" "$(cat "$W/driver.log")" "$JOB" <<'PY'
import json, sys
idle, loaded = (json.load(open(p))["results"] for p in sys.argv[1:3])
jobs = "model trainings" if sys.argv[5] == "train" else "backtests"
print(f"1,000 subscribers x {sys.argv[3]} events/s: idle p50 {idle['latency p50']} / p99 {idle['latency p99']} ms; "
      f"with two 1M-bar {jobs} p50 {loaded['latency p50']} / p99 {loaded['latency p99']} ms "
      f"(ratio {loaded['latency p99'] / idle['latency p99']:.2f}); lost {idle['lost'] + loaded['lost']}; {sys.argv[4]}")
PY
  sleep 5
done
