"""Cross-file facts of deploy/ (docs/OPERATIONS.md): what `make deploy-check`'s validators cannot
see on one file alone.

- The Kubernetes probes and the image's HEALTHCHECK name the health routes of SPEC §13; the
  routes answer on a running gateway.
- The Dockerfile builds with the Makefile's own commands, and its runtime stage installs the Debian
  package of every library the built binary loads (`ldd`).
- The production configuration (deploy/config/bedrock.json, the same text as the Kubernetes
  ConfigMap) starts a real gateway: JSON logs, /metrics behind the metrics token Prometheus sends.
- Every metric an alert or a dashboard panel uses is exported by that gateway (or is one of the
  names SPEC §13's other parts add, listed below); every alert's runbook is a section of
  docs/OPERATIONS.md.
- Compose: the gateways find Redis through the three sentinels of deploy/redis/sentinel.conf,
  which a real redis-sentinel accepts; Prometheus scrapes exactly the gateways.
- The validators of deploy/check.sh do refuse a broken file (so a green deploy-check means
  something).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from helpers import BEDROCK_BIN, REPO, RedisServer, free_port, stop_process, wait_until
from resp import Redis, wait_for_redis

DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes"
VENV_BIN = Path(sys.executable).parent

# SPEC §13's health routes (the contract of the parallel parts: G serves them).
PROBES = {"startupProbe": "/health/startup", "livenessProbe": "/health/live", "readinessProbe": "/health/ready"}

# Metric names SPEC §13's other parts add (A: Sentinel, F: circuit breakers); today's gateway
# exports every other name the alerts and the dashboard use.
CONTRACT_METRICS = {
    "bedrock_redis_failovers_total", "bedrock_redis_replica_ack_failures_total", "bedrock_redis_master_info",
    "bedrock_circuit_state", "bedrock_circuit_opened_total",
}
# Exported only when their feature is configured (the production gateway of these tests has no
# webhook); test_webhooks.py reads them from /metrics.
CONFIGURED_METRICS = {"bedrock_webhook_deliveries_total"}

# The alerts the issue asks for, by what they watch.
REQUIRED_ALERTS = {
    "gateway down": "BedrockGatewayDown", "Redis down": "BedrockRedisDown",
    "stale market data": "BedrockStaleMarketData", "LLM unavailable": "BedrockLLMUnavailable",
    "slow consumers": "BedrockSlowConsumers", "error rate": "BedrockHighErrorRate",
    "p99 delivery latency": "BedrockDeliveryLatencyHigh",
}

METRICS_TOKEN = "deploy-files-metrics-token-0123"


def k8s_docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def deployment() -> dict:
    (dep,) = [d for d in k8s_docs("gateway-deployment.yaml") if d["kind"] == "Deployment"]
    return dep


def gateway_container() -> dict:
    (container,) = deployment()["spec"]["template"]["spec"]["containers"]
    return container


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def alert_rules() -> list[dict]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [r for g in rules["groups"] for r in g["rules"]]


def dashboard_exprs() -> list[tuple[str, str]]:
    dash = json.loads((DEPLOY / "grafana" / "bedrock.json").read_text())
    return [(p["title"], t["expr"]) for p in dash["panels"] if p["type"] != "row" for t in p["targets"]]


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bbedrock_[a-z0-9_]+", expr))


def http_get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# ---------------------------------------------------------------------------------------------
# A gateway started from the production configuration


@pytest.fixture(scope="module")
def production_gateway(tmp_path_factory):
    """`bedrock serve --config deploy/config/bedrock.json` on a real Redis; the environment
    overrides only what a container provides differently (paths, loopback, Redis address, secrets)
    and configures a sample market and an (unreachable) LLM provider so their metrics exist."""
    root = tmp_path_factory.mktemp("prod")
    redis = RedisServer(root / "redis")
    redis.start()
    data = root / "data"
    data.mkdir(mode=0o700)
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "BEDROCK_JWT_SECRET": "deploy-files-secret-0123456789abcdefXYZ",
        "BEDROCK_SERVER_METRICS_TOKEN": METRICS_TOKEN,
        "BEDROCK_REDIS_URL": redis.url,
        "BEDROCK_DATA_DIR": str(data),
        "BEDROCK_JOBS_DATA_DIR": str(data / "datasets"),
        "BEDROCK_SERVER_HOST": "127.0.0.1",
        "BEDROCK_SERVER_PUBLIC_DIR": str(REPO / "public"),
        "BEDROCK_LLM_PROMPTS_DIR": str(REPO / "config" / "prompts"),
        "BEDROCK_MARKET_DATA_MARKETS": "sample:BTC/USDT:1m",
        "BEDROCK_MARKET_DATA_SAMPLE_BAR_S": "0.5",
        "BEDROCK_LLM_PROVIDER": "openai",
        "BEDROCK_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "BEDROCK_LLM_MODEL": "deploy-check",
        "BEDROCK_LLM_API_KEY": "deploy-check-key",
    }
    log = root / "gateway.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([str(BEDROCK_BIN), "serve", "--config", str(DEPLOY / "config" / "bedrock.json"),
                                 "--port", str(port)], cwd=root, env=env, stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=subprocess.STDOUT)

    def ready() -> bool:
        assert proc.poll() is None, f"gateway exited with {proc.returncode}:\n{log.read_text()}"
        try:
            return http_get(port, "/ready")[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, 30, "/ready 200 from the production configuration", seen=lambda: log.read_text()[-2000:])
        yield {"port": port, "log": log, "proc": proc}
    finally:
        stop_process(proc, timeout=20)
        redis.stop()
    assert proc.returncode == 0, f"SIGTERM exit {proc.returncode}:\n{log.read_text()[-2000:]}"


def exported_metrics(port: int) -> set[str]:
    status, body = http_get(port, "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200, body
    return {line.split()[2] for line in body.decode().splitlines() if line.startswith("# TYPE ")}


# ---------------------------------------------------------------------------------------------
# Probes


def test_kubernetes_probes_and_docker_healthcheck_name_the_health_routes():
    container = gateway_container()
    (http_port,) = [p for p in container["ports"] if p["name"] == "http"]
    config = json.loads((DEPLOY / "config" / "bedrock.json").read_text())
    assert http_port["containerPort"] == config["server"]["port"] == 8080
    for probe, path in PROBES.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "EXPOSE 8080" in dockerfile
    assert re.search(r"HEALTHCHECK .*\n\s+CMD curl -fsS -o /dev/null http://127\.0\.0\.1:8080/health/live", dockerfile)


def test_every_supervisor_waits_longer_than_the_drain():
    """docs/OPERATIONS.md's checklist: the stop timeout exceeds server.drain_timeout_s, the 5 s the
    job workers get to stop after it, and the pod's preStop pause; else SIGKILL cuts the drain."""
    config = json.loads((DEPLOY / "config" / "bedrock.json").read_text())
    drain = config["server"].get("drain_timeout_s", 10) + 5
    pod = deployment()["spec"]["template"]["spec"]
    (pre_stop,) = [int(a) for a in gateway_container()["lifecycle"]["preStop"]["exec"]["command"] if a.isdigit()]
    assert pod["terminationGracePeriodSeconds"] > drain + pre_stop
    assert int(unit_settings("bedrock.service")["TimeoutStopSec"][0]) > drain
    assert int(compose()["services"]["gateway-1"]["stop_grace_period"].removesuffix("s")) > drain


def test_kubernetes_gateway_reads_the_rotation_window_secret():
    """docs/OPERATIONS.md, "Key rotation": the previous JWT secret comes from an optional key."""
    env = {e["name"]: e for e in gateway_container()["env"]}
    assert env["BEDROCK_JWT_PREVIOUS_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "bedrock-secrets", "key": "jwt-previous-secret", "optional": True}
    assert "jwt-previous-secret" in (REPO / "docs" / "OPERATIONS.md").read_text()


def test_health_routes_answer_on_the_production_gateway(production_gateway):
    port = production_gateway["port"]
    statuses = {path: http_get(port, path)[0] for path in PROBES.values()}
    if set(statuses.values()) == {404}:
        pytest.skip(f"{BEDROCK_BIN} predates the health routes of SPEC §13 (all three answer 404)")
    assert statuses == {path: 200 for path in PROBES.values()}
    assert json.loads(http_get(port, "/health/live")[1]) == {"status": "alive"}


# ---------------------------------------------------------------------------------------------
# Dockerfile


def makefile_vars() -> dict[str, str]:
    text = (REPO / "Makefile").read_text()
    return {m[0]: m[1].strip() for m in re.findall(r"^([A-Z_]+)\s*\??:?=\s*(.*)$", text, re.M)}


def expand(value: str, env: dict[str, str]) -> str:
    while (m := re.search(r"\$\(([A-Z_]+)\)", value)):
        value = value.replace(m[0], expand(env[m[1]], env))
    return value


def test_dockerfile_builds_with_the_makefiles_commands():
    env = makefile_vars()
    recipe = re.search(r"^release: deps\n\t(.*)$", (REPO / "Makefile").read_text(), re.M)[1]
    build = expand(recipe, env)
    assert build == "swift build -c release --scratch-path .build"
    stage = (DEPLOY / "Dockerfile").read_text().split("FROM ${RUNTIME_IMAGE}")[0]
    assert f"RUN {build} " in stage
    install = re.search(r"apt-get install -y -q --no-install-recommends ([^\\\n]+)", stage)[1].split()
    assert install == env["APT_PACKAGES"].split()
    # The build image's Swift is the toolchain the project builds with.
    swift = shutil.which("swift") or str(Path(env["SWIFT_HOME"]) / "swift")
    version = re.search(r"Swift version (\d+\.\d+(?:\.\d+)?)", subprocess.run(
        [swift, "--version"], capture_output=True, text=True, timeout=60).stdout)[1]
    assert f"ARG SWIFT_IMAGE=swift:{version}-bookworm" in stage


def test_dockerfile_runtime_installs_every_library_the_binary_loads():
    ldd = subprocess.run(["ldd", str(BEDROCK_BIN)], capture_output=True, text=True, check=True).stdout
    libraries = re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M)
    runtime = (DEPLOY / "Dockerfile").read_text().split("FROM ${RUNTIME_IMAGE}")[1]
    install = set(re.search(r"apt-get install -y -q --no-install-recommends ([^\\\n]+)", runtime)[1].split())
    direct = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]",
                            subprocess.run(["readelf", "-d", str(BEDROCK_BIN)], capture_output=True, text=True).stdout))
    missing = []
    for name, path in libraries:
        if "/swift/" in path:
            assert "COPY --from=build /out/swift/ /usr/lib/swift/linux/" in runtime, name
            continue
        if name not in direct:
            continue  # pulled in by the packages below, as their own dependencies
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", path.replace("/lib/", "/usr/lib/", 1)], capture_output=True, text=True)
        package = owner.stdout.split(":")[0]
        if package in ("libc6",):
            continue  # in every Debian image
        if package not in install:
            missing.append(f"{name} ({package})")
    assert not missing, f"the runtime stage does not install: {missing}"
    assert "USER bedrock:bedrock" in runtime and "useradd --system --uid 10001" in runtime


# ---------------------------------------------------------------------------------------------
# Configuration


def test_kubernetes_configmap_is_the_images_configuration():
    (cm,) = k8s_docs("gateway-configmap.yaml")
    assert json.loads(cm["data"]["bedrock.json"]) == json.loads((DEPLOY / "config" / "bedrock.json").read_text())
    mounts = {m["mountPath"]: m for m in gateway_container()["volumeMounts"]}
    assert mounts["/etc/bedrock/bedrock.json"]["subPath"] == "bedrock.json"
    assert gateway_container()["args"] == ["serve", "--config", "/etc/bedrock/bedrock.json"]


def test_production_configuration_logs_json_and_guards_metrics(production_gateway):
    port = production_gateway["port"]
    assert http_get(port, "/metrics")[0] == 401
    assert "bedrock_redis_up" in exported_metrics(port)
    lines = [ln for ln in production_gateway["log"].read_text().splitlines() if ln.strip()]
    assert lines, "no log line"
    for line in lines:
        entry = json.loads(line)
        assert {"ts", "level", "msg"} <= entry.keys(), line


def gateway_env_loads(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """`bedrock token` reads and checks the whole configuration (file + environment) and exits."""
    full = {"PATH": "/usr/bin:/bin", "BEDROCK_JWT_SECRET": "deploy-files-secret-0123456789abcdefXYZ", **env}
    return subprocess.run([str(BEDROCK_BIN), "token", "--config", str(DEPLOY / "config" / "bedrock.json"),
                           "--sub", "deploy-check", "--role", "VIEWER"],
                          env=full, cwd=tmp_path, capture_output=True, text=True, timeout=30)


def skip_if_predates_sentinel(result: subprocess.CompletedProcess) -> None:
    if result.returncode != 0 and ("redis-sentinel://" in result.stderr or "MIN_REPLICAS_TO_ACK" in result.stderr):
        pytest.skip(f"{BEDROCK_BIN} predates redis-sentinel:// URLs: {result.stderr.strip()}")


def test_compose_and_kubernetes_gateway_environments_are_valid_configuration(tmp_path):
    gateway = compose()["services"]["gateway-1"]
    result = gateway_env_loads(dict(gateway["environment"]), tmp_path)
    skip_if_predates_sentinel(result)
    assert result.returncode == 0, result.stderr
    k8s_env = {e["name"]: e.get("value", "from-a-secret-0123456789abcdef0123") for e in gateway_container()["env"]
               if e["name"].startswith("BEDROCK_")}
    k8s_env["BEDROCK_REDIS_URL"] = k8s_env["BEDROCK_REDIS_URL"].replace("$(REDIS_PASSWORD)", "0123abcd")
    result = gateway_env_loads(k8s_env, tmp_path)
    assert result.returncode == 0, result.stderr


def unit_settings(name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_backups_run_with_the_gateways_redis_configuration_and_secrets():
    cron = next(d for d in k8s_docs("backup-cronjob.yaml") if d["kind"] == "CronJob")
    (job,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert "bedrock backup --config /etc/bedrock/bedrock.json" in job["args"][0]
    gateway_env = {e["name"]: e for e in gateway_container()["env"]}
    for env in job["env"]:
        assert env == gateway_env[env["name"]], env["name"]
    assert {"BEDROCK_REDIS_URL", "REDIS_PASSWORD"} <= {e["name"] for e in job["env"]}
    assert job["image"] == gateway_container()["image"]
    mounts = {m["mountPath"]: m for m in job["volumeMounts"]}
    assert mounts["/etc/bedrock/bedrock.json"] == {"name": "config", "mountPath": "/etc/bedrock/bedrock.json",
                                                   "subPath": "bedrock.json", "readOnly": True}
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    service, backup = unit_settings("bedrock.service"), unit_settings("bedrock-backup.service")
    for key in ("User", "Group", "EnvironmentFile", "ProtectSystem", "NoNewPrivileges", "SystemCallFilter"):
        assert backup[key] == service[key], key
    assert "bedrock backup --config /etc/bedrock/bedrock.json" in backup["ExecStart"][0]
    assert unit_settings("bedrock-backup.timer")["Unit"] == ["bedrock-backup.service"]


# ---------------------------------------------------------------------------------------------
# Alerts and dashboard


def test_every_alert_and_panel_metric_is_exported(production_gateway):
    exported = exported_metrics(production_gateway["port"])

    def known(name: str) -> bool:
        known_names = CONTRACT_METRICS | CONFIGURED_METRICS
        return name in exported or re.sub(r"_(bucket|sum|count)$", "", name) in exported or name in known_names

    uses = [(f"alert {r['alert']}", r["expr"]) for r in alert_rules()] + [(f"panel {t}", e) for t, e in dashboard_exprs()]
    unknown = [(where, n) for where, expr in uses for n in sorted(metric_names(expr)) if not known(n)]
    assert not unknown, unknown
    assert all(metric_names(e) or 'up{job="bedrock"}' in e for _, e in uses), "a query names no Bedrock metric"
    # Every contract name is used somewhere (no stale entry in the list above).
    assert CONTRACT_METRICS - {"bedrock_redis_master_info"} <= set().union(*(metric_names(e) for _, e in uses))
    (job,) = [j for j in yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
              if j["job_name"] == "bedrock"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"


def test_every_alert_is_required_or_documented_with_a_runbook():
    rules = alert_rules()
    names = {r["alert"] for r in rules}
    assert set(REQUIRED_ALERTS.values()) <= names, set(REQUIRED_ALERTS.values()) - names
    ops = (REPO / "docs" / "OPERATIONS.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", ops, re.M)}
    for rule in rules:
        runbook = rule["annotations"]["runbook"]
        assert runbook == f"docs/OPERATIONS.md#{rule['alert'].lower()}", runbook
        assert rule["alert"].lower() in anchors, f"docs/OPERATIONS.md has no section {rule['alert']}"
        assert rule["labels"]["severity"] in ("critical", "warning")


# ---------------------------------------------------------------------------------------------
# Compose and Sentinel


def test_compose_wires_gateways_sentinels_nginx_and_prometheus():
    services = compose()["services"]
    gateways = [n for n in services if n.startswith("gateway-")]
    assert gateways == ["gateway-1", "gateway-2"]
    sentinel_conf = (DEPLOY / "redis" / "sentinel.conf").read_text()
    master_name, master_host, master_port, quorum = re.search(r"^sentinel monitor (\S+) (\S+) (\d+) (\d+)$", sentinel_conf, re.M).groups()
    assert master_host in services and quorum == "2"
    sentinels = sorted(n for n in services if n.startswith("sentinel-"))
    assert sentinels == ["sentinel-1", "sentinel-2", "sentinel-3"]
    expected_url = "redis-sentinel://" + ",".join(f"{s}:26379" for s in sentinels) + f"/{master_name}"
    for name in gateways:
        assert services[name]["environment"]["BEDROCK_REDIS_URL"] == expected_url
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    replica = services["redis-replica"]["command"]
    assert replica[replica.index("--replicaof") + 1: replica.index("--replicaof") + 3] == [master_host, master_port]
    nginx = services["nginx"]
    assert "./nginx/bedrock.conf:/etc/bedrock/bedrock.conf:ro" in nginx["volumes"]
    assert nginx["environment"]["BEDROCK_UPSTREAMS"].split() == [f"{g}:8080" for g in gateways]
    (job,) = [j for j in yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
              if j["job_name"] == "bedrock"]
    assert job["static_configs"][0]["targets"] == [f"{g}:8080" for g in gateways]
    assert {"./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
            "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro"} <= set(services["prometheus"]["volumes"])


def test_sentinel_conf_runs_in_a_real_sentinel(tmp_path):
    redis = RedisServer(tmp_path / "master")
    redis.start()
    port = free_port()
    conf = (DEPLOY / "redis" / "sentinel.conf").read_text()
    conf = re.sub(r"^port \d+$", f"port {port}\nbind 127.0.0.1\ndir {tmp_path}", conf, flags=re.M)
    conf = re.sub(r"^(sentinel monitor \S+) \S+ \d+", rf"\1 127.0.0.1 {redis.port}", conf, flags=re.M)
    (tmp_path / "sentinel.conf").write_text(conf)
    proc = subprocess.Popen([shutil.which("redis-sentinel") or "redis-sentinel", str(tmp_path / "sentinel.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        wait_for_redis(port=port)
        with Redis(port=port) as s:
            master = s.execute("SENTINEL", "get-master-addr-by-name", "bedrock")
            assert [str(x) for x in master] == ["127.0.0.1", str(redis.port)]
            settings = s.execute("SENTINEL", "master", "bedrock")
            fields = dict(zip(settings[::2], settings[1::2]))
            assert (str(fields["quorum"]), str(fields["down-after-milliseconds"])) == ("2", "5000")
    finally:
        proc.terminate()
        proc.wait(10)
        redis.stop()


def test_kubernetes_redis_scripts_parse_and_name_the_gateways_sentinels(tmp_path):
    (cm,) = k8s_docs("redis-scripts-configmap.yaml")
    for name, text in cm["data"].items():
        (tmp_path / name).write_text(text)
        result = subprocess.run(["sh", "-n", str(tmp_path / name)], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}: {result.stderr}"
    sentinels = [s.split(".")[0] for s in re.search(r'SENTINELS="([^"]+)"', cm["data"]["common.sh"])[1].split()]
    url = next(e["value"] for e in gateway_container()["env"] if e["name"] == "BEDROCK_REDIS_URL")
    assert [h.split(".")[0] for h in url.split("//")[1].split("/")[0].split(",")] == sentinels
    (sts,) = [d for d in k8s_docs("sentinel-statefulset.yaml") if d["kind"] == "StatefulSet"]
    assert sts["spec"]["replicas"] == len(sentinels) == 3
    assert "sentinel monitor bedrock $MASTER 6379 2" in cm["data"]["sentinel.sh"]
    assert url.split("/")[-1].split("?")[0] == "bedrock"


# ---------------------------------------------------------------------------------------------
# The validators refuse broken files


def run_check(cmd: list[str], cwd: Path | None = None) -> tuple[int, str]:
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=60)
    return result.returncode, result.stdout + result.stderr


def test_validators_accept_the_files_and_refuse_broken_copies(tmp_path):
    kv = str(VENV_BIN / "kubernetes-validate")
    assert run_check([kv, "--strict", "--quiet", str(K8S / "gateway-deployment.yaml")])[0] == 0
    broken = copy.deepcopy(deployment())
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/health/live"
    (tmp_path / "deployment.yaml").write_text(yaml.safe_dump(broken))
    assert run_check([kv, "--strict", "--quiet", str(tmp_path / "deployment.yaml")])[0] != 0

    rules = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    (tmp_path / "alerts.yml").write_text(rules.replace("expr: bedrock_redis_up == 0", "expr: bedrock_redis_up == == 0"))
    assert run_check(["promtool", "check", "rules", str(tmp_path / "alerts.yml")])[0] != 0

    (tmp_path / "compose").mkdir()
    text = (DEPLOY / "docker-compose.yml").read_text().replace("    hostname: gateway-1", "    hostnme: gateway-1")
    (tmp_path / "compose" / "docker-compose.yml").write_text(text)
    assert run_check(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], tmp_path / "compose")[0] != 0

    unit = (DEPLOY / "systemd" / "bedrock.service").read_text()
    unit = unit.replace("ExecStart=/usr/local/bin/bedrock ", f"ExecStart={shutil.which('true')} ")
    (tmp_path / "ok.service").write_text(unit)
    assert run_check(["systemd-analyze", "verify", str(tmp_path / "ok.service")]) == (0, "")
    (tmp_path / "bad.service").write_text(unit.replace("ProtectSystem=strict", "ProtectSystm=strict"))
    assert "Unknown key" in run_check(["systemd-analyze", "verify", str(tmp_path / "bad.service")])[1]
    score = run_check(["systemd-analyze", "security", "--offline=true", str(tmp_path / "ok.service")])[1]
    level = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", score)[1])
    assert level <= 2.0, score  # "OK" on systemd's scale (0 safest, 10 unprotected)


def test_deploy_check_passes_and_fails_on_a_broken_nginx_site(tmp_path):
    code, out = run_check(["bash", str(DEPLOY / "check.sh"), sys.executable])
    assert code == 0, out
    site = DEPLOY / "nginx" / "bedrock.conf"
    text = site.read_text() if site.exists() else "upstream u {\n    server 127.0.0.1:1;\n}\nserver {\n    listen 1;\n}\n"
    (tmp_path / "site.conf").write_text(re.sub(r"^(\s*)upstream\s", r"\1upstrem ", text, count=1, flags=re.M))
    env_render = {"BEDROCK_UPSTREAMS": "127.0.0.1:18081 127.0.0.1:18082", "PATH": "/usr/bin:/bin"}
    subprocess.run(["sh", str(DEPLOY / "nginx" / "render-site.sh"), str(tmp_path / "site.conf"), str(tmp_path / "out.conf")],
                   env=env_render, check=True)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/out.conf;\n}}\n")
    code, out = run_check(["nginx", "-t", "-q", "-e", f"{tmp_path}/logs/error.log", "-p", str(tmp_path),
                           "-c", str(tmp_path / "nginx.conf")])
    assert code != 0 and "upstrem" in out, out
