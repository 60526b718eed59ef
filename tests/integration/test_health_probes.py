"""The health probes of SPEC §13: `/health/live`, `/health/ready` (the answer of `/ready`) and
`/health/startup` (503 `starting` until Redis answered, the ledger's Lua scripts are loaded and
every service loop runs; then 200 `started`), with no auth, GET and HEAD only."""
import hashlib
import json

from helpers import REPO, RedisServer, free_port, wait_until
from resp import Redis

LUA = REPO / "Sources" / "Bedrock" / "Lua"


def answer(gw, path: str) -> tuple[int, dict]:
    status, _, body = gw.http("GET", path)
    return status, json.loads(body)


def script_sha(name: str) -> str:
    """The SHA1 Redis gives a ledger script: the shared prelude, a newline, then the body."""
    text = (LUA / "common.lua").read_text() + "\n" + (LUA / f"{name}.lua").read_text()
    return hashlib.sha1(text.encode()).hexdigest()


def test_startup_waits_for_redis_and_the_scripts_then_stays_started(start_gateway, tmp_path):
    redis = RedisServer(tmp_path / "redis")  # its port, nothing listening on it yet
    gw = start_gateway({"server": {"service_threads": 2}}, redis=redis.url)

    assert answer(gw, "/health/live") == (200, {"status": "alive"})
    status, body = answer(gw, "/health/startup")
    assert status == 503 and body["status"] == "starting", body
    checks = body["checks"]
    assert (checks["configuration"], checks["redis"], checks["scripts"]) == ("loaded", "waiting", "waiting"), checks
    assert checks["service_loops"] == "2/2 running", checks
    ready = answer(gw, "/health/ready")
    assert ready[0] == 503 and ready[1]["status"] == "not_ready", ready
    assert ready == answer(gw, "/ready")

    redis.start()
    try:
        started = wait_until(lambda: answer(gw, "/health/startup")[0] == 200, 15, "/health/startup 200",
                             seen=lambda: answer(gw, "/health/startup"))
        assert started and answer(gw, "/health/startup") == (200, {"status": "started"})
        with Redis(port=redis.port) as r:  # loaded at startup, before any ledger call
            shas = [script_sha(n) for n in ("open_position", "close_position", "set_kill_switch")]
            assert r.execute("SCRIPT", "EXISTS", *shas) == [1, 1, 1]
        wait_until(lambda: answer(gw, "/health/ready")[0] == 200, 15, "/health/ready 200",
                   seen=lambda: answer(gw, "/health/ready"))
        assert answer(gw, "/health/ready") == answer(gw, "/ready")

        # Started is for good: a later outage is the readiness probe's business.
        redis.stop()
        wait_until(lambda: answer(gw, "/health/ready")[0] == 503, 15, "/health/ready 503 without Redis")
        assert answer(gw, "/health/startup") == (200, {"status": "started"})
        assert answer(gw, "/health/live") == (200, {"status": "alive"})
    finally:
        redis.stop()


def test_probes_need_no_token_and_take_get_and_head_only(start_gateway):
    gw = start_gateway({"server": {"metrics_token": "scrape-" + "x" * 24}})
    wait_until(lambda: answer(gw, "/health/startup")[0] == 200, 15, "/health/startup 200")
    for path in ("/health/live", "/health/ready", "/health/startup"):
        status, headers, body = gw.http("HEAD", path)
        assert (status, body) == (200, b""), (path, status, body)
        assert headers["content-type"].startswith("application/json"), headers
        status, headers, body = gw.http("POST", path, body=b"{}")
        assert status == 405 and headers["allow"] == "GET, HEAD", (path, status, headers)
        assert json.loads(body)["error_code"] == "METHOD_NOT_ALLOWED", body
    # The metrics token guards /metrics only.
    assert gw.http("GET", "/metrics")[0] == 401
    assert answer(gw, "/health/ready")[0] == 200
