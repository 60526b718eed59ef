#!/usr/bin/env bash
# Gateway core benchmarks (issue 2): starts a redis-server and a release `bedrock serve` on free
# loopback ports, runs each row against a fresh gateway, writes every result to one JSON file and
# prints a table. Usage:
#
#   loadtest/run-benchmarks.sh                 # build (release) if needed, run every row
#   ONLY="hold-1000 wrk-health" loadtest/run-benchmarks.sh   # some rows only
#
# Knobs: SCRATCH (SwiftPM build dir, default .build), NO_BUILD=1 (use existing binaries),
# KEEP_WORK=1 (keep the temp dir with the gateway and redis logs), CONFIG (gateway config file, default config/bedrock.json; env overrides are added),
# OUT (result directory, default loadtest/results), HOLD_S (hold time, default 30),
# FANOUT_S (publishing time, default 10), LATENCY_S (default 15), NICE (priority of redis,
# gateway and load generator when run as root, default -10: the machine is shared with builds),
# QUIET_WAIT (seconds to wait for the machine to go idle before each row, default 120).
set -euo pipefail
# The whole script is one block, read before it runs: editing the file mid-run cannot break it.
{

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
export PATH=/opt/swift/usr/bin:$PATH
SCRATCH=${SCRATCH:-.build}
BIN="$SCRATCH/release"
OUT=${OUT:-loadtest/results}
HOLD_S=${HOLD_S:-30}
FANOUT_S=${FANOUT_S:-10}
LATENCY_S=${LATENCY_S:-15}
ONLY=${ONLY:-}
CONFIG=${CONFIG:-config/bedrock.json}
NICE=${NICE:--10}
QUIET_WAIT=${QUIET_WAIT:-120}
PRIO=()
if [[ $(id -u) -eq 0 && "$NICE" != 0 ]]; then PRIO=(nice -n "$NICE"); fi
SECRET=bench-secret-0123456789abcdef0123456789abcd
WORK=$(mktemp -d /tmp/bedrock-bench.XXXXXX)
mkdir -p "$OUT"
RESULTS="$OUT/results.json"

if [[ -z "${NO_BUILD:-}" ]]; then
  swift build -c release --scratch-path "$SCRATCH" --product bedrock >&2
  swift build -c release --scratch-path "$SCRATCH" --product loadtest >&2
fi
[[ -x "$BIN/bedrock" && -x "$BIN/loadtest" ]] || { echo "missing $BIN/bedrock or $BIN/loadtest" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.2f\n", (f[12] + f[13]) / t }' "/proc/$1/stat"; }

# Wait (at most QUIET_WAIT s) until other processes use less than half a core.
busy_jiffies() { awk '/^cpu /{ print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }
wait_quiet() {
  local waited=0 b1 t1 b2 t2 pct
  while (( waited < QUIET_WAIT )); do
    read -r b1 t1 < <(busy_jiffies); sleep 2; read -r b2 t2 < <(busy_jiffies)
    pct=$(( (b2 - b1) * 100 * $(nproc) / (t2 - t1 > 0 ? t2 - t1 : 1) ))
    (( pct < 50 )) && return 0
    echo "    machine busy ${pct}% of a core; waiting for it to calm down" >&2
    waited=$((waited + 2))
  done
}

REDIS_PORT=$(free_port)
"${PRIO[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
  --logfile "$WORK/redis.log" --daemonize no >/dev/null 2>&1 &
REDIS_PID=$!
GW_PID=""
cleanup() {
  [[ -n "$GW_PID" ]] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null || true
  kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null || true
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

# A fresh gateway for each row, so "RSS of the empty server" really is empty.
start_gateway() {
  GW_PORT=$(free_port)
  rm -rf "$WORK/data"; mkdir -p "$WORK/data"
  ( ulimit -n "$(ulimit -Hn)"
    exec "${PRIO[@]}" env BEDROCK_JWT_SECRET="$SECRET" BEDROCK_SERVER_MAX_CONNECTIONS=20000 \
      BEDROCK_SERVER_HEARTBEAT_INTERVAL_S=10 BEDROCK_SERVER_HEARTBEAT_TIMEOUT_S=30 \
      "$BIN/bedrock" serve --config "$CONFIG" --port "$GW_PORT" \
      --redis "redis://127.0.0.1:$REDIS_PORT" --data-dir "$WORK/data" ) >"$WORK/gateway-$GW_PORT.log" 2>&1 &
  GW_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$GW_PORT/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "gateway did not start:" >&2; cat "$WORK/gateway-$GW_PORT.log" >&2; exit 1
}
stop_gateway() { kill "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null || true; GW_PID=""; sleep 1; }

wanted() { [[ -z "$ONLY" || " $ONLY " == *" $1 "* ]]; }

# run_loadtest NAME ARGS... : one loadtest row, JSON in $OUT/NAME.json, command in $OUT/NAME.cmd
run_loadtest() {
  local name=$1; shift
  wanted "$name" || return 0
  wait_quiet
  start_gateway
  echo "==> $name: loadtest $*" >&2
  printf 'loadtest %s\n' "$*" >"$OUT/$name.cmd"
  BEDROCK_JWT_SECRET="$SECRET" "${PRIO[@]}" "$BIN/loadtest" "$@" --port "$GW_PORT" --redis "redis://127.0.0.1:$REDIS_PORT" \
    --server-pid "$GW_PID" --json "$OUT/$name.json" --quiet || echo "    ($name reported failures)" >&2
  stop_gateway
}

run_loadtest connect-5000 connect --connections 5000
run_loadtest hold-1000 hold --connections 1000 --duration "$HOLD_S"
run_loadtest hold-5000 hold --connections 5000 --duration "$HOLD_S"
run_loadtest hold-10000 hold --connections 10000 --duration "$HOLD_S"
run_loadtest fanout-1000x200 fanout --connections 1000 --rate 200 --duration "$FANOUT_S"
run_loadtest fanout-1000x500 fanout --connections 1000 --rate 500 --duration "$FANOUT_S"
run_loadtest latency-1000x100 fanout --connections 1000 --rate 100 --duration "$LATENCY_S"
run_loadtest latency-1000x1000 fanout --connections 1000 --rate 1000 --duration "$LATENCY_S"

if wanted wrk-health; then
  wait_quiet
  start_gateway
  echo "==> wrk-health: wrk -t2 -c50 -d10s http://127.0.0.1:PORT/health" >&2
  echo "wrk -t2 -c50 -d10s --latency http://127.0.0.1:PORT/health" >"$OUT/wrk-health.cmd"
  before=$(cpu_seconds "$GW_PID")
  "${PRIO[@]}" wrk -t2 -c50 -d10s --latency "http://127.0.0.1:$GW_PORT/health" | tee "$WORK/wrk.txt" >&2
  after=$(cpu_seconds "$GW_PID")
  python3 - "$WORK/wrk.txt" "$before" "$after" "$OUT/wrk-health.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else None
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
res = {"requests/s": rps, "latency p50": ms(lat.get("50", "")), "latency p99": ms(lat.get("99", "")),
       "non-2xx": int(non2xx.group(1)) if non2xx else 0,
       "server CPU": round((float(sys.argv[3]) - float(sys.argv[2])) / 10 * 100)}
json.dump({"scenario": "wrk", "parameters": {"threads": 2, "connections": 50, "duration_s": 10},
           "results": res, "units": {"latency p50": "ms", "latency p99": "ms", "server CPU": "% of a core"},
           "failures": [], "passed": True}, open(sys.argv[4], "w"), indent=2)
PY
  stop_gateway
fi

# One JSON with every row and the machine, and the table.
python3 - "$OUT" "$RESULTS" <<'PY'
import glob, json, os, platform, subprocess, sys
out, results = sys.argv[1], sys.argv[2]
rows = {}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    name = os.path.basename(path)[:-5]
    if name == "results":
        continue
    data = json.load(open(path))
    cmd = os.path.join(out, name + ".cmd")
    data["command"] = open(cmd).read().strip() if os.path.exists(cmd) else ""
    rows[name] = data
model = subprocess.run("lscpu | grep 'Model name' | sed 's/.*: *//'", shell=True, capture_output=True, text=True).stdout.strip()
machine = {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
           "loadavg_at_end": open("/proc/loadavg").read().split()[:3]}
json.dump({"machine": machine, "rows": rows}, open(results, "w"), indent=2, sort_keys=True)
KEYS = {
    "connect": ["connections welcomed", "connect failures", "connections per second"],
    "hold": ["connections alive at end", "server RSS empty", "server RSS all connected", "RSS per connection", "pings answered", "unexpected disconnects", "server CPU", "loadtest CPU", "other processes CPU"],
    "fanout": ["delivered events/s", "frames/s", "events per frame", "latency p50", "latency p99", "latency max",
               "lost", "duplicated", "unexpected disconnects", "server CPU", "loadtest CPU", "other processes CPU"],
    "wrk": ["requests/s", "latency p50", "latency p99", "non-2xx", "server CPU"],
}
print(f"machine: {machine['nproc']} cores, {machine['cpu']}, kernel {machine['kernel']}")
for name, data in rows.items():
    r, u = data["results"], data.get("units", {})
    fig = ", ".join(f"{k}={r[k]}{(' ' + u[k]) if k in u else ''}" for k in KEYS.get(data["scenario"], []) if k in r)
    status = "ok" if data.get("passed") else "FAILED: " + "; ".join(data.get("failures", []))
    print(f"{name:20} {fig}\n{'':20} [{status}] {data['command']}")
print(f"results: {results}")
PY
exit 0
}
