"""Circuit breakers of the outside dependencies (docs/ops/BREAKERS.md), seen from outside: a
dependency failing `circuit.failure_threshold` times in a row opens its circuit (`/metrics`
`bedrock_circuit_state` 2, `bedrock_circuit_opened_total`, `/ready` `checks.dependencies`, the
gateway still ready); nothing reaches the dependency during the cool-down (the fake counts every
request); then exactly one probe goes (the circuit half-open until it ends), and the circuit
closes once a probe succeeds. Against the fake Binance (`fail_rest`: HTTP 503 with Binance's -1001
body) and the fake OpenAI-compatible model (`fail(500)`), with a threshold of 3 and a cool-down of
a few seconds set through the environment.
"""

from __future__ import annotations

import re
import time

from fakes import FakeBinance, WallClock
from helpers import poll, stream_key, wait_until
from llm_setup import answered_sentiment, llm, llm_config, post_news, sentiment  # noqa: F401 - llm: fixture

THRESHOLD = 3
COOLDOWN_S = 4.0
CIRCUIT_ENV = {"BEDROCK_CIRCUIT_FAILURE_THRESHOLD": str(THRESHOLD), "BEDROCK_CIRCUIT_COOLDOWN_S": str(COOLDOWN_S)}
STATES = {0.0: "closed", 1.0: "half_open", 2.0: "open"}


def metric(gw, name: str, dependency: str) -> float | None:
    """The value of `name{dependency="..."}` on `/metrics`, or None when absent."""
    text = gw.http("GET", "/metrics")[2].decode()
    match = re.search(r'^%s\{dependency="%s"\}\s+(\S+)$' % (re.escape(name), re.escape(dependency)), text, re.M)
    return float(match.group(1)) if match else None


def circuit(gw, dependency: str) -> tuple[str, str, int]:
    """(state on /metrics, state in /ready, /ready status code)."""
    status, _, ready = gw.get_json("/ready")
    return STATES.get(metric(gw, "bedrock_circuit_state", dependency)), \
        ready["checks"]["dependencies"][dependency], status


def wait_state(gw, dependency: str, state: str, timeout: float) -> None:
    wait_until(lambda: circuit(gw, dependency)[:2] == (state, state), timeout,
               f"{dependency} circuit {state} on /metrics and /ready", seen=lambda: circuit(gw, dependency))


def test_binance_failing_opens_its_circuit_nothing_is_sent_during_the_cooldown_then_one_probe(start_gateway):
    with FakeBinance(clock=WallClock()) as fake:
        def klines() -> int:
            return sum(1 for path, _ in list(fake.requests) if path == "/api/v3/klines")

        fake.fail_rest(503, times=10_000)
        gw = start_gateway(
            {"engine": {"strategies": []}, "market_data": {"backfill_bars": 30, "lease_ms": 1000}},
            env={"BEDROCK_MARKET_DATA_MARKETS": "binance:BTC/USDT:1m",
                 "BEDROCK_EXCHANGES_BINANCE_REST_URL": fake.http_url,
                 "BEDROCK_EXCHANGES_BINANCE_WS_URL": fake.ws_url, **CIRCUIT_ENV})
        # The first backfill page is tried three times (jittered waits under 1 s and 2 s), then
        # the circuit opens.
        wait_state(gw, "binance", "open", 15)
        opened = time.monotonic()
        assert klines() == THRESHOLD, fake.requests
        assert metric(gw, "bedrock_circuit_opened_total", "binance") == 1
        status, _, ready = gw.get_json("/ready")
        assert status == 200 and ready["status"] == "ready", ready  # informational only
        assert ready["checks"]["dependencies"] == {"binance": "open"}, ready

        # The cool-down: the worker asks again, but nothing reaches the exchange.
        assert not poll(lambda: klines() > THRESHOLD, COOLDOWN_S - 1.0), \
            f"a request {time.monotonic() - opened:.1f} s into a {COOLDOWN_S} s cool-down"
        # Then one probe, which fails: open again, the next cool-down starts.
        wait_until(lambda: klines() == THRESHOLD + 1, COOLDOWN_S + 5, "the probe", seen=klines)
        assert time.monotonic() - opened >= COOLDOWN_S - 1.0
        wait_until(lambda: metric(gw, "bedrock_circuit_opened_total", "binance") == 2, 5, "opened again")
        assert circuit(gw, "binance")[:2] == ("open", "open")
        assert not poll(lambda: klines() > THRESHOLD + 1, COOLDOWN_S - 1.5), "a second probe during the cool-down"

        # The exchange recovers: the next probe closes the circuit and the backfill goes on.
        fake.fail_rest(503, times=0)
        wait_state(gw, "binance", "closed", COOLDOWN_S + 10)
        with gw.redis() as r:
            wait_until(lambda: r.execute("XLEN", stream_key("klines:BTCUSDT:1m")) >= 30, 15, "the backfilled bars")
        assert metric(gw, "bedrock_circuit_opened_total", "binance") == 2
        gw.metrics_with('bedrock_exchange_requests_total{exchange="binance",status="server_error"} %d' % (THRESHOLD + 1))


def test_the_llm_failing_opens_its_circuit_and_sentiment_falls_back_without_calls(start_gateway, llm):
    llm.fail(500, times=1000)
    gw = start_gateway(llm_config(llm), env=CIRCUIT_ENV)
    assert circuit(gw, "llm") == ("closed", "closed", 200)
    post_news(gw, "BTCUSDT", "Exchange halts withdrawals")
    # The book asks again a window after each failure: three 500s open the circuit.
    wait_state(gw, "llm", "open", 15)
    opened = time.monotonic()
    assert llm.request_count() == THRESHOLD, llm.requests()
    status, _, ready = gw.get_json("/ready")
    assert status == 200 and ready["checks"]["dependencies"] == {"llm": "open"}, ready

    # Meanwhile the market keeps its fallback and the asks are refused before any call.
    assert not poll(lambda: llm.request_count() > THRESHOLD, COOLDOWN_S - 1.0), \
        f"a call {time.monotonic() - opened:.1f} s into a {COOLDOWN_S} s cool-down"
    gw.metrics_with('bedrock_llm_requests_total{task="sentiment",outcome="server_error"} %d' % THRESHOLD)
    text = gw.http("GET", "/metrics")[2].decode()
    deferred = re.search(r'^bedrock_llm_requests_total\{task="sentiment",outcome="deferred"\}\s+(\S+)$', text, re.M)
    assert deferred and float(deferred.group(1)) >= 1, "refused asks are counted as deferred"
    assert sentiment(gw, "BTCUSDT")["source"] == "fallback"

    # The model answers again, slowly: once the cool-down is over the circuit is half-open (on
    # /metrics and /ready) until the probe, the first ask after it, has its answer; that closes it.
    llm.reset()
    llm.answer("POSITIVE: withdrawals resume", delay_s=1.5)
    wait_state(gw, "llm", "half_open", COOLDOWN_S + 5)
    back = answered_sentiment(gw, "BTCUSDT", timeout=COOLDOWN_S + 10)
    assert back["llm_sentiment"] == "POSITIVE", back
    assert time.monotonic() - opened >= COOLDOWN_S - 0.5
    assert llm.request_count() == 1, "one probe, then the answer is cached"
    wait_state(gw, "llm", "closed", 5)
    assert metric(gw, "bedrock_circuit_opened_total", "llm") == 1
