#!/usr/bin/env bash
# Gateway benchmarks (issues 2 and 7): starts a redis-server and a release `bedrock serve` on free
# loopback ports, runs each row against a fresh gateway, writes every result to one JSON file and
# prints a table. Usage:
#
#   loadtest/run-benchmarks.sh                 # build (release) if needed, run every default row
#   ONLY="hold-1000 wrk-health" loadtest/run-benchmarks.sh   # some rows only
#   ONLY=soak SOAK_S=1800 loadtest/run-benchmarks.sh          # the soak runs only when named
#   ONLY=hold-10000 HOLD_S=600 loadtest/run-benchmarks.sh     # the issue's 10,000 × 10 minutes
#
# Rows: connect-5000, hold-1000, hold-5000, hold-10000, fanout-1000x200, fanout-1000x500,
# fanout-1000x100-latency, latency-1000x1000, fanout-frames, fanout-batched, request-estimate,
# wrk-estimate, wrk-publish, mixed, wrk-health, presence-10000, webhooks; soak only when ONLY names it.
#
# Knobs: SCRATCH (SwiftPM build dir, default .build), NO_BUILD=1 (use existing binaries),
# KEEP_WORK=1 (keep the temp dir with the gateway and redis logs), CONFIG (gateway config file, default config/bedrock.json; env overrides are added),
# OUT (result directory, default $SCRATCH/gateway-bench; loadtest/results holds only the figures
# of record that docs/BENCHMARKS.md cites), HOLD_S (hold time, default 30),
# FANOUT_S (publishing time, default 10), LATENCY_S (default 15), NICE (priority of redis,
# gateway and load generator when run as root, default -10: the machine is shared with builds),
# QUIET_WAIT (seconds to wait for the machine to go idle before each row, default 120),
# REQUEST_S (request-estimate and wrk-estimate time, default 10), WRK_CONNS (wrk connections, default 50), MIXED_S (default 20),
# CLIENT (load generator client: raw, the default — plain sockets, much less client CPU per
# frame — or lws, libwebsockets' client), LOOPS (gateway server.service_threads, default 0: one
# per core, at most 4); see docs/BENCHMARKS.md "Service loops and the raw client",
# SOAK_S (default 1800), FRAMES_CONNS × FRAMES_RATE (fanout-frames, default 500 × 500: 250k
# deliveries/s offered, about the most frames/s seen here with ~1 event per frame), BATCHED_RATE
# (fanout-batched events/s per subscriber × 1,000 subscribers, default 2000), SAMPLE_S (server RSS/fd sample interval, 10).
# The gateway runs with the per-connection message rate limit raised to its maximum (1,000,000/s,
# burst 1,000,000) so request rows measure the gateway, not the limiter.
set -euo pipefail
# The whole script is one block, read before it runs: editing the file mid-run cannot break it.
{

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
export PATH=/opt/swift/usr/bin:$PATH
SCRATCH=${SCRATCH:-.build}
BIN="$SCRATCH/release"
OUT=${OUT:-$SCRATCH/gateway-bench}
HOLD_S=${HOLD_S:-30}
FANOUT_S=${FANOUT_S:-10}
LATENCY_S=${LATENCY_S:-15}
REQUEST_S=${REQUEST_S:-10}
export WRK_CONNS=${WRK_CONNS:-50}
MIXED_S=${MIXED_S:-20}
SOAK_S=${SOAK_S:-1800}
FRAMES_CONNS=${FRAMES_CONNS:-500}
FRAMES_RATE=${FRAMES_RATE:-500}
BATCHED_RATE=${BATCHED_RATE:-2000}
SAMPLE_S=${SAMPLE_S:-10}
ONLY=${ONLY:-}
CONFIG=${CONFIG:-config/bedrock.json}
LOOPS=${LOOPS:-0}
CLIENT=${CLIENT:-raw}
PYTHON=${PYTHON:-$REPO/.build-py/venv/bin/python}
NICE=${NICE:--10}
QUIET_WAIT=${QUIET_WAIT:-120}
PRIO=()
if [[ $(id -u) -eq 0 && "$NICE" != 0 ]]; then PRIO=(nice -n "$NICE"); fi
SECRET=bench-secret-0123456789abcdef0123456789abcd
# The API key of the wrk-publish row (an integrator's backend publishes with a key, not a JWT);
# the gateway is given only its digest, as api.keys holds.
BENCH_API_KEY=bench-api-key-0123456789abcdef0123456789abcdef
BENCH_API_KEYS="[{\"name\":\"bench-publish\",\"key_sha256\":\"$(printf %s "$BENCH_API_KEY" | sha256sum | cut -d' ' -f1)\",\"role\":\"ADMIN\"}]"
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
      BEDROCK_SERVER_SERVICE_THREADS="$LOOPS" BEDROCK_SERVER_RATE_LIMIT_PER_S=1000000 BEDROCK_SERVER_RATE_LIMIT_BURST=1000000 \
      BEDROCK_API_KEYS="$BENCH_API_KEYS" "$BIN/bedrock" serve --config "$CONFIG" --port "$GW_PORT" \
      --redis "redis://127.0.0.1:$REDIS_PORT" --data-dir "$WORK/data" ) >"$WORK/gateway-$GW_PORT.log" 2>&1 &
  GW_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$GW_PORT/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "gateway did not start:" >&2; cat "$WORK/gateway-$GW_PORT.log" >&2; exit 1
}
stop_gateway() { kill "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null || true; GW_PID=""; sleep 1; }

# A row runs when ONLY names it, or when ONLY is empty and the row is not opt-in (soak).
OPT_IN=" soak "
wanted() { [[ " $ONLY " == *" $1 "* ]] || [[ -z "$ONLY" && "$OPT_IN" != *" $1 "* ]]; }

# run_loadtest NAME ARGS... : one loadtest row, JSON in $OUT/NAME.json, command in $OUT/NAME.cmd
run_loadtest() {
  local name=$1; shift
  wanted "$name" || return 0
  wait_quiet
  start_gateway
  echo "==> $name: loadtest $*" >&2
  printf 'loadtest %s --client %s (gateway service threads: %s)\n' "$*" "$CLIENT" "$LOOPS" >"$OUT/$name.cmd"
  BEDROCK_JWT_SECRET="$SECRET" "${PRIO[@]}" "$BIN/loadtest" "$@" --client "$CLIENT" --port "$GW_PORT" --redis "redis://127.0.0.1:$REDIS_PORT" \
    --server-pid "$GW_PID" --json "$OUT/$name.json" --quiet || echo "    ($name reported failures)" >&2
  stop_gateway
}

run_loadtest connect-5000 connect --connections 5000
run_loadtest hold-1000 hold --connections 1000 --duration "$HOLD_S" --sample-every "$SAMPLE_S"
run_loadtest hold-5000 hold --connections 5000 --duration "$HOLD_S" --sample-every "$SAMPLE_S"
run_loadtest hold-10000 hold --connections 10000 --duration "$HOLD_S" --sample-every "$SAMPLE_S"
run_loadtest fanout-1000x200 fanout --connections 1000 --rate 200 --duration "$FANOUT_S"
run_loadtest fanout-1000x500 fanout --connections 1000 --rate 500 --duration "$FANOUT_S"
# Issue 7: p99 < 5 ms at 1,000 subscribers × 100 events/s, one event per frame.
run_loadtest fanout-1000x100-latency fanout --connections 1000 --rate 100 --duration "$LATENCY_S"
run_loadtest latency-1000x1000 fanout --connections 1000 --rate 1000 --duration "$LATENCY_S"
# Issue 7: frames/s with (about) one event per frame, and events/s with batching.
run_loadtest fanout-frames fanout --connections "$FRAMES_CONNS" --rate "$FRAMES_RATE" --duration "$FANOUT_S"
run_loadtest fanout-batched fanout --connections 1000 --rate "$BATCHED_RATE" --duration "$FANOUT_S"
# Requests over the socket: 100 VIEWER connections × 8 in flight, positions.estimate by prices.
run_loadtest request-estimate request --connections 100 --inflight 8 --duration "$REQUEST_S"
# Fan-out and requests at once: 1,000 subscribers × 100 events/s, 100 of them also requesting.
run_loadtest mixed mixed --connections 1000 --rate 100 --requesters 100 --inflight 4 --request-rate 2000 \
  --duration "$MIXED_S" --sample-every "$SAMPLE_S"
# Steady mixed load; fails when the gateway's RSS grows > 5 % or its descriptors grow after the warm-up.
run_loadtest soak soak --connections 1000 --rate 20 --requesters 100 --inflight 1 --request-rate 200 \
  --duration "$SOAK_S" --sample-every "$SAMPLE_S" --timeout 120

# run_wrk NAME SECONDS URL [wrk args...]: wrk -t2 -c$WRK_CONNS (default 50) against a fresh gateway; figures from wrk's
# summary and (with -s estimate.lua / publish.lua) its `estimate:` / `publish:` line; JSON in
# $OUT/NAME.json. With PROBE=1, loadtest/publish-latency.py runs alongside (a subscriber timing
# events published at PROBE_RATE/s to `signals`; needs the venv's websockets) and its event
# latencies join the row.
run_wrk() {
  local name=$1 seconds=$2 path=$3; shift 3
  wanted "$name" || return 0
  command -v wrk >/dev/null || { echo "    ($name skipped: wrk is not installed; apt-get install wrk)" >&2; return 0; }
  wait_quiet
  start_gateway
  echo "==> $name: wrk -t2 -c$WRK_CONNS -d${seconds}s --latency $* http://127.0.0.1:PORT$path" >&2
  echo "wrk -t2 -c$WRK_CONNS -d${seconds}s --latency $* http://127.0.0.1:PORT$path" >"$OUT/$name.cmd"
  local before after load probe=""
  rm -f "$WORK/probe.json"
  if [[ -n "${PROBE:-}" ]]; then
    "$PYTHON" loadtest/publish-latency.py --port "$GW_PORT" --token "$BEDROCK_TOKEN" --rate "${PROBE_RATE:-200}" \
      --duration "$seconds" --json "$WORK/probe.json" >&2 &
    probe=$!
    echo "  + loadtest/publish-latency.py --rate ${PROBE_RATE:-200} --duration $seconds" >>"$OUT/$name.cmd"
  fi
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  before=$(cpu_seconds "$GW_PID")
  "${PRIO[@]}" wrk -t2 -c"$WRK_CONNS" -d"${seconds}s" --latency "$@" "http://127.0.0.1:$GW_PORT$path" | tee "$WORK/wrk.txt" >&2
  after=$(cpu_seconds "$GW_PID")
  [[ -n "$probe" ]] && { wait "$probe" || echo "    ($name: the latency probe failed)" >&2; }
  python3 - "$WORK/wrk.txt" "$before" "$after" "$OUT/$name.json" "$seconds" "$load" "$WORK/probe.json" <<'PY'
import json, os, re, sys
text = open(sys.argv[1]).read()
seconds = float(sys.argv[5])
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else None
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
res = {"requests/s": rps, "latency p50": ms(lat.get("50", "")), "latency p90": ms(lat.get("90", "")),
       "latency p99": ms(lat.get("99", "")), "non-2xx": int(non2xx.group(1)) if non2xx else 0,
       "server CPU": round((float(sys.argv[3]) - float(sys.argv[2])) / seconds * 100)}
extra = re.search(r"^(?:estimate|publish): (.*)$", text, re.M)
if extra:
    fields = dict(kv.split("=") for kv in extra.group(1).split())
    res["latency p99.9"] = float(fields["p99.9_ms"])
    res["latency max"] = float(fields["max_ms"])
    res["socket errors"] = int(fields["socket_errors"])
if os.path.exists(sys.argv[7]):
    probe = json.load(open(sys.argv[7]))["results"]
    for k in ("event p50", "event p99", "event max"):
        res[k] = round(probe[k], 3)
    res["events timed"] = probe["received"]
failures = [f"{res['non-2xx']} non-2xx responses"] if res["non-2xx"] else []
units = {k: "ms" for k in res if k.startswith("latency") or k.startswith("event p") or k == "event max"}
units["server CPU"] = "% of a core"
json.dump({"scenario": "wrk", "parameters": {"threads": 2, "connections": int(os.environ.get("WRK_CONNS", "50")), "duration_s": seconds,
                                             "loadavg_at_start": sys.argv[6]},
           "results": res, "units": units, "failures": failures, "passed": not failures}, open(sys.argv[4], "w"), indent=2)
PY
  stop_gateway
}

run_wrk wrk-health 10 /health
if wanted wrk-estimate; then
  BEDROCK_TOKEN=$(BEDROCK_JWT_SECRET="$SECRET" "$BIN/bedrock" token --config "$CONFIG" --data-dir "$WORK" --sub bench-wrk --role VIEWER)
  export BEDROCK_TOKEN
  run_wrk wrk-estimate "$REQUEST_S" "" -s loadtest/wrk/estimate.lua
fi
# The integrator API's publish (ADMIN JWT): POST /v1/publish to `opportunities`, one XADD each,
# while publish-latency.py times events from request to a subscriber of `signals`.
if wanted wrk-publish; then
  BEDROCK_TOKEN=$(BEDROCK_JWT_SECRET="$SECRET" "$BIN/bedrock" token --config "$CONFIG" --data-dir "$WORK" --sub bench-publish --role ADMIN)
  export BEDROCK_TOKEN  # the latency probe's socket (sockets take JWTs)
  PUBLISH_API_KEY=$BENCH_API_KEY PROBE=1 run_wrk wrk-publish "$REQUEST_S" "" -s loadtest/wrk/publish.lua
fi

# GET /v1/presence with 10,000 connections (distinct users) over two gateways, target < 50 ms: the
# script starts its own redis-server, two gateways and two load generators from $BIN.
if wanted presence-10000; then
  wait_quiet
  echo "==> presence-10000: loadtest/presence-latency.py --connections 10000 --calls 200" >&2
  echo "loadtest/presence-latency.py --connections 10000 --calls 200" >"$OUT/presence-10000.cmd"
  ( ulimit -n "$(ulimit -Hn)"
    "${PRIO[@]}" python3 loadtest/presence-latency.py --bin-dir "$BIN" --connections 10000 --calls 200 \
      --json "$OUT/presence-10000.json" ) >&2 || echo "    (presence-10000 reported failures)" >&2
fi

# Webhooks: deliveries/s to a fast local receiver, and the gateway's RSS while a receiver is down
# (loadtest/webhook-throughput.py starts its own redis-server and gateway).
if wanted webhooks; then
  wait_quiet
  echo "==> webhooks: loadtest/webhook-throughput.py --events 20000 --down-s 60" >&2
  echo "python3 loadtest/webhook-throughput.py --events 20000 --concurrency 8 --rate 500 --down-s 60 --bin $BIN/bedrock" >"$OUT/webhooks.cmd"
  "${PRIO[@]}" python3 loadtest/webhook-throughput.py --events 20000 --concurrency 8 --rate 500 --down-s 60 \
    --bin "$BIN/bedrock" --json "$OUT/webhooks.json" >&2 || echo "    (webhooks reported failures)" >&2
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
    "request": ["requests/s", "request latency p50", "request latency p99", "request latency p99.9", "missing responses",
                "server CPU", "loadtest CPU", "other processes CPU"],
    "wrk": ["requests/s", "latency p50", "latency p99", "latency p99.9", "non-2xx", "server CPU", "event p50",
            "event p99", "event max"],
    "presence": ["presence p50", "presence p99", "presence max", "answer bytes", "users", "topic filter p50"],
    "webhooks": ["delivered events/s", "lost", "duplicated", "server CPU", "receiver CPU", "RSS down after 10 s",
                 "RSS down last", "RSS down growth", "retry set at end"],
}
KEYS["smoke"] = KEYS["fanout"]
KEYS["mixed"] = KEYS["fanout"][:6] + KEYS["request"][:5] + KEYS["fanout"][8:]
KEYS["soak"] = KEYS["mixed"] + ["server RSS first", "server RSS last", "server RSS growth", "server fds first", "server fds last"]
print(f"machine: {machine['nproc']} cores, {machine['cpu']}, kernel {machine['kernel']}")
for name, data in rows.items():
    r, u = data["results"], data.get("units", {})
    fig = ", ".join(f"{k}={r[k]}{(' ' + u[k]) if k in u else ''}" for k in KEYS.get(data["scenario"], []) if k in r)
    status = "ok" if data.get("passed") else "FAILED: " + "; ".join(data.get("failures", []))
    print(f"{name:20} {fig}\n{'':20} [{status}] {data['command']}")

# One summary table: what the issue asks about, one row per benchmark row.
def num(v, digits=0):
    if v is None or v == "":
        return "-"
    return f"{v:,.{digits}f}" if isinstance(v, (int, float)) else str(v)
cols = ["row", "conns", "KiB/conn", "frames/s", "events/s", "ev/frame", "ev p50", "ev p99", "ev p99.9",
        "req/s", "req p50", "req p99", "req p99.9", "CPU gw/lt/other", "load", "ok"]
table = []
for name, data in rows.items():
    r, p, sc = data["results"], data.get("parameters", {}), data["scenario"]
    wrk = sc == "wrk"
    cpu = "/".join(num(r.get(k)) for k in ("server CPU", "loadtest CPU", "other processes CPU"))
    table.append([name, num(r.get("connections alive at end", r.get("subscribers", r.get("connections welcomed", p.get("connections"))))),
                  num(r.get("RSS per connection"), 2), num(r.get("frames/s")), num(r.get("delivered events/s")),
                  num(r.get("events per frame"), 2), num(r.get("latency p50"), 2) if not wrk else "-",
                  num(r.get("latency p99"), 2) if not wrk else "-", num(r.get("latency p99.9"), 2) if not wrk else "-",
                  num(r.get("requests/s")), num(r.get("latency p50" if wrk else "request latency p50"), 2),
                  num(r.get("latency p99" if wrk else "request latency p99"), 2),
                  num(r.get("latency p99.9" if wrk else "request latency p99.9"), 2),
                  cpu, str(p.get("loadavg", p.get("loadavg_at_start", "-"))).split(" ")[0],
                  "yes" if data.get("passed") else "NO"])
widths = [max(len(c), *(len(t[i]) for t in table)) if table else len(c) for i, c in enumerate(cols)]
print()
print("latencies in ms (ev: publish → receive; req: request → response); CPU in % of a core; load = 1-min load average at the start")
print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths))))
for t in table:
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(t, widths))))
print(f"results: {results}")
PY
exit 0
}
