"""The LLM failure policy seen from outside (SPEC §12): a timeout, a 429 with `Retry-After`, a 500,
garbage and wrong words all give the NEUTRAL fallback, are counted by outcome on `/metrics`,
and raise one `risk.alert` `LLM_UNAVAILABLE` per outage; the API key reaches the model and
nothing else; a provider without its settings refuses to start.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from fakes.llm import openai_error
from helpers import BEDROCK_BIN, free_port, poll, wait_until
from llm_setup import (answered_sentiment, events_of, key_windows, llm, llm_alerts,  # noqa: F401 - llm: fixture
                       llm_config, llm_counts, post_news, rest, sentiment, stream, subscribed, wait_counted)

KEY = "sk-test-SECRET123-Zq8Lw2Xv9Rt4Yp6Mn3Kd"
TASKS = ("sentiment", "explanation", "journal", "review")
OUTCOMES = ("ok", "timeout", "connection_error", "server_error", "rate_limited", "invalid_answer", "deferred")


def assert_no_key(places: dict[str, str]) -> None:
    """Fails naming every place where the key, or 12 characters of it, appears."""
    leaks = {name: [p for p in key_windows(KEY) if p in text][:1] for name, text in places.items()}
    leaks = {name: found for name, found in leaks.items() if found}
    assert not leaks, f"the API key (or a piece of it) leaked: {leaks}"


def test_each_failure_falls_back_is_counted_and_one_outage_raises_one_alert(start_gateway, llm):
    # outage_quiet_s 0: the first success ends an outage (600 s of calm by default).
    gw = start_gateway(llm_config(llm, timeout_s=0.5, outage_quiet_s=0))
    counts = llm_counts(gw)
    assert {(t, o) for t in TASKS for o in OUTCOMES} <= set(counts), sorted(counts)
    assert all(v == 0 for v in counts.values()), counts
    assert "bedrock_llm_in_flight" in gw.http("GET", "/metrics")[2].decode()

    llm.answer("POSITIVE: too late", delay_s=2)  # timeout
    llm.fail(429, retry_after="1")  # rate_limited; no call for 1 s
    llm.fail(500)  # server_error
    llm.garbage("<html>502 upstream exploded</html>")  # invalid_answer
    llm.answer("bullish: ETF inflows")  # invalid_answer: not one of the three words
    llm.answer("positive: ETF inflows")  # invalid_answer: not upper case
    llm.set_default("NEGATIVE: outflows resume")  # then the model is back
    risk = subscribed(gw, "risk", "TRADER")
    try:
        post_news(gw, "BTCUSDT", "ETF inflows slow down")
        wait_counted(gw, "sentiment", "timeout", 1)
        down = sentiment(gw, "BTCUSDT")
        assert (down["llm_sentiment"], down["source"], down["reason"]) == ("NEUTRAL", "fallback", None), down
        first = events_of(risk, "risk.alert", timeout=10)["data"]
        assert first["action"] == "LLM_UNAVAILABLE" and first["task"] == "sentiment", first
        assert first["outcome"] == "timeout" and first["message"], first
        assert first["reasons"][0]["code"] == "LLM_UNAVAILABLE", first

        # The market is asked again after each failure until the model answers.
        back = answered_sentiment(gw, "BTCUSDT", timeout=20)
        assert (back["llm_sentiment"], back["reason"], back["source"]) == ("NEGATIVE", "outflows resume", "llm"), back
        calls = llm.requests()
        assert len(calls) == 7, [c["body"] for c in calls]
        gap = calls[2]["received_at"] - calls[1]["received_at"]
        assert gap >= 0.95, f"a call {gap:.2f} s after a 429 with Retry-After: 1"
        counts = wait_counted(gw, "sentiment", "ok", 1)
        assert {o: counts[("sentiment", o)] for o in OUTCOMES if o != "deferred"} == {
            "ok": 1, "timeout": 1, "connection_error": 0, "server_error": 1, "rate_limited": 1,
            "invalid_answer": 3}, counts
        assert len(llm_alerts(gw)) == 1, "six failures in a row are one outage"

        # After the success, a new failure is a new outage: a second alert.
        llm.fail(500)
        post_news(gw, "BTCUSDT", "Exchange halts withdrawals")
        second = events_of(risk, "risk.alert", timeout=10)["data"]
        assert (second["action"], second["task"], second["outcome"]) == ("LLM_UNAVAILABLE", "sentiment", "server_error")
        wait_counted(gw, "sentiment", "ok", 2)  # re-asked a window later: recovered again
        assert [a["outcome"] for a in llm_alerts(gw)] == ["timeout", "server_error"]
        gw.metrics_with("bedrock_llm_in_flight 0")
    finally:
        risk.close()


def test_the_api_key_reaches_the_model_and_nothing_else(start_gateway, llm):
    gw = start_gateway(dict(llm_config(llm, timeout_s=0.5), log={"level": "debug"}),
                       env={"BEDROCK_LLM_API_KEY": KEY})
    echo = json.dumps(openai_error(f"Incorrect API key provided: {KEY}.", "invalid_request_error", "invalid_api_key"))
    llm.answer(f"{KEY}: echoed")  # a model echoing the key as its word (first: the outage's alert quotes it)
    llm.fail(401, body=echo)  # a server quoting the key
    llm.fail(429, retry_after="1", body=f"slow down, {KEY}")
    llm.fail(500, body=f"upstream said: Authorization: Bearer {KEY}")
    llm.garbage(f"<html>no route for key={KEY}</html>")
    llm.answer("late", delay_s=2)  # timeout
    llm.set_default("NEUTRAL: quiet")
    post_news(gw, "BTCUSDT", "Something happened")
    answered_sentiment(gw, "BTCUSDT", timeout=20)
    assert llm.request_count() == 7
    assert all(c["headers"].get("authorization") == f"Bearer {KEY}" for c in llm.requests())

    # No server at all: a connection error.
    llm.stop()
    post_news(gw, "ETHUSDT", "Something else happened")
    wait_counted(gw, "sentiment", "connection_error", 1)

    answers = [json.dumps(rest(gw, "GET", path, "VIEWER")[1])
               for path in ("/v1/sentiment?market=BTCUSDT", "/v1/sentiment?market=ETHUSDT", "/v1/sentiment")]
    places = {
        "the log": gw.log.read_text(errors="replace"),
        "a sentiment answer": "\n".join(answers),
        "/metrics": gw.http("GET", "/metrics")[2].decode(),
        "risk.alert events": json.dumps([e for _, e in stream(gw, "risk")]),
    }
    assert llm_alerts(gw), "the failures raised an alert"
    assert_no_key(places)


def test_a_failed_review_quoting_the_key_answers_503_without_it(start_gateway, llm):
    gw = start_gateway(llm_config(llm, timeout_s=0.5), env={"BEDROCK_LLM_API_KEY": KEY})
    echo = json.dumps(openai_error(f"Incorrect API key provided: {KEY}.", "invalid_request_error", "invalid_api_key"))
    period = {"start_date": "2026-01-01", "end_date": "2026-01-31"}
    llm.fail(401, body=echo)
    status, _, raw = gw.http("POST", "/v1/review/generate",
                             {"Authorization": f"Bearer {gw.token('TRADER')}", "Content-Type": "application/json"},
                             json.dumps(period).encode())
    assert status == 503 and json.loads(raw)["error_code"] == "UNAVAILABLE", raw
    assert llm.request_count() == 1, "the review asked the model"
    assert llm.requests()[0]["headers"]["authorization"] == f"Bearer {KEY}"
    bodies = [raw.decode()]
    ws, _ = gw.session("TRADER", "keyless")
    try:
        llm.fail(500, body=echo)
        ws.send({"type": "request", "id": 1, "method": "review.generate", "params": period})
        frame = ws.expect(lambda f: f.get("id") == 1, skip=lambda f: True)
        assert frame["type"] == "error" and frame["error_code"] == "UNAVAILABLE", frame
        bodies.append(json.dumps(frame))
    finally:
        ws.close()
    assert llm.request_count() == 2
    places = {"an error body": "\n".join(bodies), "the log": gw.log.read_text(errors="replace"),
              "risk.alert events": json.dumps([e for _, e in stream(gw, "risk")])}
    assert_no_key(places)


def test_a_key_cut_short_in_a_quoted_error_body_is_not_logged_either(start_gateway, llm):
    """A failing server's body is quoted in the log only up to a limit: a key that straddles the
    limit must not leave its first characters behind."""
    gw = start_gateway(dict(llm_config(llm), log={"level": "debug"}), env={"BEDROCK_LLM_API_KEY": KEY})
    for pad in (285, 288):  # the key's first 15 and 12 characters inside the first 300
        llm.fail(401, body="x" * pad + KEY)
    post_news(gw, "BTCUSDT", "Something happened")
    answered_sentiment(gw, "BTCUSDT", timeout=20)
    assert llm.request_count() == 3
    places = {"the log": gw.log.read_text(errors="replace"), "/metrics": gw.http("GET", "/metrics")[2].decode(),
              "risk.alert events": json.dumps([e for _, e in stream(gw, "risk")])}
    assert llm_alerts(gw), "the failures raised an alert"
    assert_no_key(places)


def test_a_hung_model_holds_at_most_max_concurrency_calls_and_not_the_gateway(start_gateway, llm):
    gw = start_gateway(llm_config(llm, max_concurrency=2, timeout_s=60))
    llm.hang(times=3)
    for market in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
        post_news(gw, market, f"{market} listed on a new venue")
    wait_until(lambda: llm.request_count() >= 2, 10, "two calls in flight", seen=llm.request_count)
    assert not poll(lambda: llm.request_count() > 2, 1.0), "a third call while two hang (max_concurrency 2)"
    gw.metrics_with("bedrock_llm_in_flight 2")
    started = time.monotonic()
    readings = [sentiment(gw, m) for m in ("BTCUSDT", "ETHUSDT", "SOLUSDT")]
    assert time.monotonic() - started < 1.0, "sentiment reads wait on the model"
    assert all(r["source"] == "fallback" for r in readings), readings
    started = time.monotonic()
    code = gw.stop()
    assert code == 0 and time.monotonic() - started < 5, f"SIGTERM with two hung calls: exit {code} after " \
        f"{time.monotonic() - started:.1f} s"


def serve(tmp_path, config: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    cfg = tmp_path / "bedrock.json"
    cfg.write_text(json.dumps({"mode": "dev", **config}))
    return subprocess.run([str(BEDROCK_BIN), "serve", "--config", str(cfg), "--data-dir", str(tmp_path / "d"),
                           "--port", str(free_port()), "--redis", "redis://127.0.0.1:1"],
                          capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", **env})


def test_a_provider_without_its_settings_refuses_to_start_naming_the_key(tmp_path):
    cases = [
        ("llm.base_url", {}, {"BEDROCK_LLM_PROVIDER": "openai", "BEDROCK_LLM_MODEL": "m"}),
        ("llm.model", {}, {"BEDROCK_LLM_PROVIDER": "openai", "BEDROCK_LLM_BASE_URL": "http://127.0.0.1:9/v1"}),
        ("llm.base_url", {"llm": {"provider": "openai", "base_url": "ftp://models.example/v1", "model": "m"}}, {}),
        ("llm.provider", {"llm": {"provider": "anthropic"}}, {}),
        ("llm.provider", {}, {"BEDROCK_LLM_PROVIDER": "OpenAI-ish"}),
        ("llm.api_key", {}, {"BEDROCK_LLM_PROVIDER": "openai", "BEDROCK_LLM_BASE_URL": "http://127.0.0.1:9/v1",
                             "BEDROCK_LLM_MODEL": "m", "BEDROCK_LLM_API_KEY": "sk-has a space SECRET123"}),
    ]
    for n, (key, config, env) in enumerate(cases):
        run_dir = tmp_path / f"case{n}"
        run_dir.mkdir()
        r = serve(run_dir, config, {**env, "BEDROCK_LLM_API_KEY": env.get("BEDROCK_LLM_API_KEY", KEY)})
        assert r.returncode != 0, (key, r.returncode, r.stderr)
        assert key in r.stderr, (key, r.stderr)
        assert "SECRET123" not in r.stderr + r.stdout, (key, r.stderr)


def test_a_flapping_model_is_one_outage_and_one_alert(start_gateway, llm):
    """Answers refused and accepted in turn: one outage, one alert (the default
    `llm.outage_quiet_s` of 600 s never passes without a failure)."""
    gw = start_gateway(llm_config(llm))
    for n in range(3):
        llm.answer("bullish: a guess")  # refused
        post_news(gw, "BTCUSDT", f"headline {n}")
        wait_counted(gw, "sentiment", "invalid_answer", n + 1)
        llm.answer("POSITIVE: fine")  # accepted
        post_news(gw, "ETHUSDT", f"headline {n}")
        wait_counted(gw, "sentiment", "ok", n + 1)
    assert len(llm_alerts(gw)) == 1, llm_alerts(gw)
