"""Gateways sharing one Redis share the LLM's sentiment: one model call per market serves them
all (an ask left to the gateway already asking), every gateway answers the same reading, and a
gateway started later takes the answer from the `news` stream instead of asking again."""

from __future__ import annotations

import json

import pytest

from fakes import FakeLLM
from helpers import REPO, stream_key, wait_until
from test_ledger_api import rest


@pytest.fixture
def fake_llm():
    with FakeLLM(default_text="NEGATIVE: an exchange was hacked") as fake:
        yield fake


def llm_config(fake: FakeLLM) -> dict:
    return {"llm": {"provider": "openai", "base_url": fake.base_url, "model": "fake", "batch_window_s": 0.3,
                    "timeout_s": 5, "prompts_dir": str(REPO / "config" / "prompts")}}


def reading(gw, market: str) -> dict:
    status, body = rest(gw, f"/v1/sentiment?market={market}")
    assert status == 200, body
    return body


def shared_updates(gw) -> list[dict]:
    with gw.redis() as r:
        events = [json.loads(fields.get("event") or fields[b"event"]) for _, fields in r.xrange(stream_key("news"))]
    return [e for e in events if e["event_type"] == "sentiment.updated"]


def test_one_call_serves_every_gateway_and_a_later_one_reads_it_back(start_gateway, fake_llm):
    fake_llm.answer("NEGATIVE: an exchange was hacked", delay_s=0.5)  # the asks overlap
    a, b = start_gateway(llm_config(fake_llm)), start_gateway(llm_config(fake_llm))
    for n in range(5):
        status, body = rest(a if n % 2 else b, "/v1/news", "TRADER", "POST",
                            {"market": "ETH/USDT", "title": f"Exchange hack, update {n}", "source": "wire"})
        assert status == 200, body

    wait_until(lambda: reading(a, "ETHUSDT")["llm_sentiment"] == "NEGATIVE"
               and reading(b, "ETHUSDT")["llm_sentiment"] == "NEGATIVE", 15, "both gateways have the answer")
    on_a, on_b = reading(a, "ETHUSDT"), reading(b, "ETHUSDT")
    assert on_a["reason"] == on_b["reason"] == "an exchange was hacked"
    assert on_a["as_of"] == on_b["as_of"], (on_a, on_b)
    assert fake_llm.request_count() == 1, fake_llm.requests()
    assert [u["market"] for u in shared_updates(a)] == ["ETHUSDT"]
    prompt = fake_llm.requests()[0]["body"]["messages"][-1]["content"]
    assert all(f"Exchange hack, update {n}" in prompt for n in range(5)), prompt

    # A gateway started afterwards adopts the answer from the stream: no second call.
    c = start_gateway(llm_config(fake_llm))
    wait_until(lambda: reading(c, "ETHUSDT")["llm_sentiment"] == "NEGATIVE", 15, "the new gateway has the answer")
    assert reading(c, "ETHUSDT")["as_of"] == on_a["as_of"]
    assert fake_llm.request_count() == 1, fake_llm.requests()


def risk_alerts(gw) -> list[dict]:
    with gw.redis() as r:
        events = [json.loads(fields.get("event") or fields[b"event"]) for _, fields in r.xrange(stream_key("risk"))]
    return [e for e in events if e.get("action") == "LLM_UNAVAILABLE"]


def test_one_outage_is_one_alert_over_every_gateway(start_gateway, fake_llm):
    a, b = start_gateway(llm_config(fake_llm)), start_gateway(llm_config(fake_llm))
    fake_llm.fail(500, times=1000)
    for market in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
        status, body = rest(a, "/v1/news", "TRADER", "POST", {"market": market, "title": "t", "source": "s"})
        assert status == 200, body
    wait_until(lambda: fake_llm.request_count() >= 6, 15, "several failed calls")
    wait_until(lambda: len(risk_alerts(a)) >= 1, 5, "the alert")
    assert len(risk_alerts(a)) == 1, risk_alerts(a)
    assert risk_alerts(a)[0]["outcome"] == "server_error"
    assert reading(a, "BTCUSDT")["source"] == reading(b, "BTCUSDT")["source"] == "fallback"
