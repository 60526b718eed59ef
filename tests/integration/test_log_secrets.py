"""Secrets never reach the log: tokens (good and bad, in a header, the query or a first frame),
the JWT secret, the metrics token, the LLM API key (also when the provider quotes it back) and the
password of the Redis URL, with the gateway logging JSON at debug (every HTTP request, every
socket error and close, every failed LLM call)."""
import json
import shutil
import subprocess

from fakes.llm import openai_error
from helpers import JWT_SECRET, free_port, wait_until
from llm_setup import key_windows, llm, llm_config  # noqa: F401 - llm: fixture
from resp import Redis

LLM_KEY = "sk-logs-SECRET456-Hq2Vn8Rt5Wx3Zc7Lp9Mb"
REDIS_PASSWORD = "redis-pass-" + "K4" * 10


def redis_with_password(tmp_path):
    """A redis-server that wants `REDIS_PASSWORD`; (process, port)."""
    port = free_port()
    proc = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path), "--requirepass", REDIS_PASSWORD],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers() -> bool:
        try:
            with Redis(port=port, timeout=1.0) as r:
                return r.execute("AUTH", REDIS_PASSWORD) == "OK"
        except OSError:
            return False

    wait_until(answers, 10, "redis-server (with a password) to answer")
    return proc, port


def tampered(token: str) -> str:
    """The same token with its signature changed (refused as a bad signature)."""
    head, payload, signature = token.split(".")
    return f"{head}.{payload}.{signature[::-1]}"


def test_no_token_or_secret_in_the_log(start_gateway, llm, tmp_path):
    metrics_token = "scrape-" + "Q7" * 12
    redis, port = redis_with_password(tmp_path)
    try:
        check_the_log(start_gateway, llm, metrics_token, f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}")
    finally:
        redis.terminate()
        redis.wait(10)


def check_the_log(start_gateway, llm, metrics_token: str, redis_url: str) -> None:
    config = {**llm_config(llm, timeout_s=2), "log": {"level": "debug", "format": "json"},
              "server": {"metrics_token": metrics_token}}
    gw = start_gateway(config, redis=redis_url, env={"BEDROCK_LLM_API_KEY": LLM_KEY})
    wait_until(lambda: gw.http("GET", "/health/startup")[0] == 200, 15, "Redis (with its password) to answer")
    good = gw.token("TRADER", "logged")
    bad = tampered(gw.token("VIEWER", "other"))

    # HTTP: a good and a bad bearer token, a token in the query string, the metrics token.
    assert gw.http("GET", "/v1/account", {"Authorization": f"Bearer {good}"})[0] == 200
    assert gw.http("GET", "/v1/account", {"Authorization": f"Bearer {bad}"})[0] == 401
    assert gw.http("GET", f"/v1/account?token={good}")[0] == 401
    assert gw.http("GET", "/metrics", {"Authorization": f"Bearer {metrics_token}"})[0] == 200
    assert gw.http("GET", "/metrics", {"Authorization": f"Bearer {metrics_token}-"})[0] == 401

    # WebSocket: query token, header token, first-frame auth, a refused refresh, an error frame.
    ws, _ = gw.session("TRADER", "logged")
    ws.send({"type": "auth", "token": bad})
    ws.expect(lambda f: f.get("type") == "error" and f.get("error_code") == "UNAUTHENTICATED")
    ws.send({"type": "request", "id": 7, "method": "no.such.method", "params": {"token": good}})
    ws.expect(lambda f: f.get("type") == "error" and f.get("id") == 7)
    ws.close()
    header = gw.connect(header_token=good)
    header.expect("welcome")
    header.close()
    first = gw.connect()
    first.send({"type": "auth", "token": bad})
    assert first.expect_close()[0] == 4401

    # The LLM: a provider refusing the key and quoting it back (a review answered 503).
    llm.fail(401, body=json.dumps(openai_error(f"Incorrect API key provided: {LLM_KEY}.", "invalid_request_error",
                                               "invalid_api_key")))
    status, _, _ = gw.http("POST", "/v1/review/generate",
                           {"Authorization": f"Bearer {good}", "Content-Type": "application/json"},
                           json.dumps({"start_date": "2026-01-01", "end_date": "2026-01-31"}).encode())
    assert status == 503 and llm.requests()[-1]["headers"]["authorization"] == f"Bearer {LLM_KEY}"
    wait_until(lambda: '"msg":"llm: call failed"' in gw.log.read_text(), 10, "the failed LLM call in the log")

    # The log is written by a thread of its own: wait for the last step (the 4401 close) in it.
    wait_until(lambda: '"code":4401' in gw.log_text(), 10, "the 4401 close in the log", seen=gw.log_text)
    text = gw.log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # json lines, so the check reads real lines
    assert any(l["msg"] == "http request" and l["status"] == 401 for l in lines)
    for name, secret in (("good token", good), ("bad token", bad), ("jwt secret", JWT_SECRET),
                         ("metrics token", metrics_token), ("Redis password", REDIS_PASSWORD)):
        assert secret not in text, f"the {name} is in the log"
        # Nor its signature alone (a token cut or re-encoded in a log line).
        assert secret.split(".")[-1] not in text, f"part of the {name} is in the log"
    leaked = [piece for piece in key_windows(LLM_KEY) if piece in text]
    assert not leaked, f"the LLM key (or a piece of it) is in the log: {leaked[:1]}"
