#!/usr/bin/env bash
# `make deploy-check`: every file of deploy/ through a real validator. Any finding fails.
#
#   deploy/check.sh [PYTHON]     PYTHON: the test virtualenv's interpreter (kubernetes-validate,
#                                PyYAML); default .build-py/venv/bin/python
#
#   kubernetes/*.yaml        kubernetes-validate --strict (the API's OpenAPI schemas, unknown fields refused)
#   nginx/bedrock.conf       rendered as docker-compose.yml renders it (render-site.sh), included in a
#                            minimal nginx.conf, `nginx -t`
#   prometheus/alerts.yml    promtool check rules
#   prometheus/prometheus.yml  promtool check config (a copy whose credentials file exists)
#   systemd/*                systemd-analyze verify (copies whose ExecStart names an existing binary:
#                            verify refuses a missing one; any warning fails too)
#   docker-compose.yml       docker-compose config (the Compose specification's schema)
#   grafana/bedrock.json     parsed; every panel has a query; every bedrock_* metric it or an alert
#                            names is registered in Sources/ (tests/integration/test_deploy_files.py
#                            checks them against a running gateway's /metrics)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.build-py/venv/bin/python}
KV="$(dirname "$PY")/kubernetes-validate"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
step() { echo "deploy-check: $*"; }
bad() { echo "deploy-check: FAILED: $*" >&2; fail=1; }

step "kubernetes-validate --strict deploy/kubernetes/*.yaml"
if ! "$KV" --strict --quiet deploy/kubernetes/*.yaml; then bad "kubernetes manifests"; fi

step "nginx -t on deploy/nginx/bedrock.conf (rendered for two upstreams, in a minimal nginx.conf)"
site=deploy/nginx/bedrock.conf
mkdir -p "$tmp/nginx/logs"
BEDROCK_UPSTREAMS="127.0.0.1:18081 127.0.0.1:18082" NGINX_LISTEN=18080 \
  sh deploy/nginx/render-site.sh "$site" "$tmp/nginx/site.conf"
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    include $tmp/nginx/site.conf;
}
EOF
if ! out=$(nginx -t -q -e "$tmp/nginx/logs/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>&1) || [ -n "$out" ]; then
  echo "$out" >&2; bad "nginx site"
fi

step "promtool check rules deploy/prometheus/alerts.yml"
if ! promtool check rules deploy/prometheus/alerts.yml >/dev/null; then bad "alert rules"; fi

step "promtool check config deploy/prometheus/prometheus.yml"
mkdir -p "$tmp/prometheus"
cp deploy/prometheus/alerts.yml "$tmp/prometheus/"
echo "metrics-token-for-the-check" > "$tmp/prometheus/metrics_token"
sed "s|/run/secrets/metrics_token|$tmp/prometheus/metrics_token|" deploy/prometheus/prometheus.yml > "$tmp/prometheus/prometheus.yml"
if ! promtool check config "$tmp/prometheus/prometheus.yml" >/dev/null; then bad "prometheus config"; fi

step "systemd-analyze verify deploy/systemd/* (ExecStart=/usr/local/bin/bedrock pointed at $(type -P true))"
mkdir -p "$tmp/systemd"
for unit in deploy/systemd/*.service deploy/systemd/*.timer; do
  sed "s|^ExecStart=/usr/local/bin/bedrock |ExecStart=$(type -P true) |" "$unit" > "$tmp/systemd/$(basename "$unit")"
done
if ! out=$(systemd-analyze verify "$tmp"/systemd/* 2>&1) || [ -n "$out" ]; then
  echo "$out" >&2; bad "systemd units"
fi

step "docker-compose config -q (deploy/docker-compose.yml)"
if ! (cd deploy && docker-compose -f docker-compose.yml config -q); then bad "compose file"; fi

step "grafana/bedrock.json and alert metrics against the metrics registered in Sources/"
if ! "$PY" - <<'EOF'
import json, pathlib, re, sys
import yaml

registered = set()
for path in pathlib.Path("Sources").rglob("*.swift"):
    registered |= set(re.findall(r'"(bedrock_[a-z0-9_]+)"', path.read_text()))
# Histograms export _bucket, _sum and _count series.
def known(name):
    return name in registered or re.sub(r"_(bucket|sum|count)$", "", name) in registered

dash = json.loads(pathlib.Path("deploy/grafana/bedrock.json").read_text())
problems = []
exprs = []
for panel in dash["panels"]:
    if panel["type"] == "row":
        continue
    targets = [t.get("expr", "") for t in panel.get("targets", [])]
    if not targets or not all(targets):
        problems.append(f"grafana panel {panel.get('title')!r} has no query")
    exprs += [(f"grafana panel {panel['title']!r}", e) for e in targets]
rules = yaml.safe_load(pathlib.Path("deploy/prometheus/alerts.yml").read_text())
for group in rules["groups"]:
    for rule in group["rules"]:
        exprs.append((f"alert {rule['alert']}", rule["expr"]))
# Names the parallel parts of SPEC §13 add (docs/OPERATIONS.md, "Monitoring"): registered in
# Sources/ once they are merged.
contract = {"bedrock_redis_failovers_total", "bedrock_redis_replica_ack_failures_total",
            "bedrock_redis_master_info", "bedrock_circuit_state", "bedrock_circuit_opened_total"}
for where, expr in exprs:
    for name in re.findall(r"\bbedrock_[a-z0-9_]+", expr):
        if not known(name) and name not in contract:
            problems.append(f"{where}: {name} is not a metric the gateway registers")
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
then bad "metric names"; fi

if [ "$fail" -ne 0 ]; then echo "deploy-check: FAILED" >&2; exit 1; fi
echo "deploy-check: every deploy/ file passed its validator"
