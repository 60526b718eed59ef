"""`llm.response_format` `json_object`: the sentiment call asks for JSON (`response_format` and a
system message naming the object, which OpenAI requires in JSON mode) and the object
`{"sentiment","reason"}` is read strictly — a word outside the three is a fallback, not a guess."""

from __future__ import annotations

import json

import pytest

from fakes import FakeLLM
from helpers import REPO, wait_until
from test_ledger_api import rest


@pytest.fixture
def fake_llm():
    with FakeLLM() as fake:
        yield fake


def test_json_mode_asks_for_the_object_and_reads_it_strictly(start_gateway, fake_llm):
    gw = start_gateway({"llm": {"provider": "openai", "base_url": fake_llm.base_url, "model": "fake",
                                "batch_window_s": 0.2, "response_format": "json_object",
                                "prompts_dir": str(REPO / "config" / "prompts")}})
    fake_llm.answer(json.dumps({"sentiment": "POSITIVE", "reason": "record ETF inflows"}))
    fake_llm.answer(json.dumps({"sentiment": "BULLISH", "reason": "a guess"}))
    status, body = rest(gw, "/v1/news", "TRADER", "POST", {"market": "BTCUSDT", "title": "ETF inflows", "source": "wire"})
    assert status == 200, body

    def reading(market):
        status, body = rest(gw, f"/v1/sentiment?market={market}")
        assert status == 200, body
        return body

    wait_until(lambda: reading("BTCUSDT")["llm_sentiment"] == "POSITIVE", 10, "the JSON answer")
    assert reading("BTCUSDT")["reason"] == "record ETF inflows"
    request = fake_llm.requests()[0]["body"]
    assert request["response_format"] == {"type": "json_object"}
    assert request["messages"][0]["role"] == "system" and "JSON" in request["messages"][0]["content"]

    status, body = rest(gw, "/v1/news", "TRADER", "POST", {"market": "SOLUSDT", "title": "Upgrade", "source": "wire"})
    assert status == 200, body
    wait_until(lambda: fake_llm.request_count() == 2, 10, "the second call")
    counted = 'bedrock_llm_requests_total{task="sentiment",outcome="invalid_answer"} 1'
    wait_until(lambda: counted in gw.http("GET", "/metrics")[2].decode(), 10, "the refused answer counted")
    assert reading("SOLUSDT") == {"market": "SOLUSDT", "llm_sentiment": "NEUTRAL", "reason": None, "as_of": None,
                                  "source": "fallback"}
