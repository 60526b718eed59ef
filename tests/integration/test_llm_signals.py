"""Signals and the LLM (SPEC §12): a signal takes its market's sentiment at once and never waits on
the model; an LLM-written explanation follows as `signal.explained` and replaces the template;
with no provider nothing changes (null sentiment, template, 503 for journal and review).

Signals come from the live engine running `sma_cross` (fast 2, slow 3) on bars appended to the
kline stream (llm_setup.py: three warm-up closes, then the crossing bar).
"""

from __future__ import annotations

import time

from helpers import poll, stream_key, wait_until
from llm_setup import (CROSS, ENGINE, WARM_UP, add_bar, answered_sentiment, feed, llm,  # noqa: F401
                       llm_config, llm_counts, post_news, prompt, rest, sentiment, stream, subscribed,
                       wait_counted)

EXPLANATION = ("The fast two-bar average closed above the slow three-bar average at 100.5. "
               "News sentiment was neutral. The stop and target follow the strategy's rules.")


def cross(gw, market: str, ws, timeout: float = 2.0) -> tuple[dict, float]:
    """Appends `market`'s crossing bar; returns its `signal.created` and the seconds it took."""
    started = time.monotonic()
    add_bar(gw, market, len(WARM_UP), CROSS, open_=WARM_UP[-1])
    frame = ws.expect(lambda f: f.get("type") == "event" and f["data"].get("event_type") == "signal.created"
                      and f["data"]["market"] == market, timeout=timeout, skip=lambda f: True)
    return frame["data"], time.monotonic() - started


def test_a_signal_never_waits_on_a_slow_model_and_carries_the_cached_sentiment(start_gateway, llm):
    gw = start_gateway(llm_config(llm, timeout_s=8))
    for market in ("BTCUSDT", "ETHUSDT"):
        feed(gw, market, WARM_UP)
    # ETH: a fast POSITIVE answer, cached before its signal.
    llm.answer("POSITIVE: staking inflows")
    post_news(gw, "ETHUSDT", "Staking inflows hit a record")
    assert answered_sentiment(gw, "ETHUSDT")["llm_sentiment"] == "POSITIVE"
    # BTC: its sentiment call is in flight and the model never answers it.
    llm.hang()
    post_news(gw, "BTCUSDT", "Miners sell reserves")
    wait_until(lambda: llm.request_count() >= 2, 10, "the BTC sentiment call to reach the model",
               seen=llm.request_count)

    ws = subscribed(gw, "signals", "VIEWER")
    try:
        btc, took = cross(gw, "BTCUSDT", ws)
        assert took < 2.0, f"signal.created {took:.2f} s after its bar"
        assert btc["llm_sentiment"] == "NEUTRAL", btc  # no answer: the fallback, at once
        eth, took = cross(gw, "ETHUSDT", ws)
        assert took < 2.0, f"signal.created {took:.2f} s after its bar"
        assert eth["llm_sentiment"] == "POSITIVE", eth
    finally:
        ws.close()
    stored = {s["market"]: s for s in rest(gw, "GET", "/v1/signals", "VIEWER")[1]["data"]}
    assert stored["BTCUSDT"]["llm_sentiment"] == "NEUTRAL" and stored["ETHUSDT"]["llm_sentiment"] == "POSITIVE"
    assert sentiment(gw, "BTCUSDT")["source"] == "fallback", "the hung call gave no answer"


def test_the_arbiter_weighs_the_sentiment(start_gateway, llm):
    """sma_cross scores 100; with no ML score the arbiter's mean is (0.5 × 100 + 0.2 × LLM) / 0.7:
    NEGATIVE (0) gives 71.4, under a threshold of 80; POSITIVE (100) gives 100."""
    gw = start_gateway(dict(llm_config(llm), arbiter={"threshold": 80}))
    for market, answer in (("BTCUSDT", "NEGATIVE: exchange outflows"), ("ETHUSDT", "POSITIVE: staking inflows")):
        feed(gw, market, WARM_UP)
        llm.answer(answer)
        post_news(gw, market, f"{market} flows")
        assert answered_sentiment(gw, market)["reason"] == answer.split(": ")[1]
    llm.set_default(EXPLANATION)
    ws = subscribed(gw, "signals", "VIEWER")
    try:
        btc, _ = cross(gw, "BTCUSDT", ws)
        eth, _ = cross(gw, "ETHUSDT", ws)
    finally:
        ws.close()
    assert (btc["llm_sentiment"], btc["final_decision"]) == ("NEGATIVE", "REJECTED"), btc
    assert (eth["llm_sentiment"], eth["final_decision"]) == ("POSITIVE", "APPROVED"), eth
    assert "71.4" in btc["explanation"] and "LLM" in btc["explanation"], btc["explanation"]
    wait_counted(gw, "explanation", "ok", 2)
    explained = [prompt(c) for c in llm.requests() if "Explain this trading signal" in prompt(c)]
    assert sorted("News sentiment: POSITIVE" in p for p in explained) == [False, True], explained
    assert any("News sentiment: NEGATIVE" in p for p in explained), explained


def test_the_written_explanation_follows_the_signal_and_replaces_the_template(start_gateway, llm):
    gw = start_gateway(llm_config(llm))
    for market in ("BTCUSDT", "ETHUSDT"):
        feed(gw, market, WARM_UP)
    ws = subscribed(gw, "signals", "VIEWER")
    sock, _ = gw.session("VIEWER", "reader")
    try:
        # BTC: the explanation call fails (500): no event, the template stays.
        llm.fail(500)
        failed, _ = cross(gw, "BTCUSDT", ws)
        template = failed["explanation"]
        assert template, failed
        wait_counted(gw, "explanation", "server_error", 1)
        assert not any(e["event_type"] == "signal.explained" for _, e in stream(gw, "signals"))
        assert rest(gw, "GET", f"/v1/signals/{failed['id']}", "VIEWER")[1]["explanation"] == template

        # ETH: the model answers; signal.explained follows signal.created on topic signals.
        llm.set_default(EXPLANATION)
        created, _ = cross(gw, "ETHUSDT", ws)
        explained = ws.expect(lambda f: f.get("type") == "event" and f["data"].get("event_type") == "signal.explained",
                              timeout=10, skip=lambda f: True)
        assert explained["topic"] == "signals", explained
        data = explained["data"]
        assert data["signal_id"] == created["id"] and data["explanation"] == EXPLANATION, data
        assert data["schema_version"] == "2.0" and data["timestamp"], data
        mine = [e["event_type"] for _, e in stream(gw, "signals")
                if e.get("id") == created["id"] or e.get("signal_id") == created["id"]]
        assert mine == ["signal.created", "signal.explained"], mine

        call = llm.requests()[-1]
        text = prompt(call)
        assert "ETHUSDT" in text and "100.5" in text, text  # the facts come from the signal
        status, one = rest(gw, "GET", f"/v1/signals/{created['id']}", "VIEWER")
        assert status == 200 and one["explanation"] == EXPLANATION, one
        assert one["explanation"] != created["explanation"], "the template is replaced"
        sock.send({"type": "request", "id": 1, "method": "signals.get", "params": {"id": created["id"]}})
        frame = sock.expect(lambda f: f.get("id") == 1, skip=lambda f: True)
        assert frame["type"] == "response" and frame["result"]["explanation"] == EXPLANATION, frame
        listed = {s["id"]: s for s in rest(gw, "GET", "/v1/signals", "VIEWER")[1]["data"]}
        assert listed[created["id"]]["explanation"] == EXPLANATION
        assert listed[failed["id"]]["explanation"] == template, "the failed one keeps its template"
    finally:
        ws.close()
        sock.close()
    assert llm_counts(gw).get(("explanation", "ok"), 0) >= 1


def test_without_a_provider_nothing_changes(start_gateway):
    gw = start_gateway(ENGINE)
    feed(gw, "BTCUSDT", WARM_UP)
    news = post_news(gw, "BTCUSDT", "Headline with nobody to read it")
    assert news["market"] == "BTCUSDT", news
    ws = subscribed(gw, "signals", "VIEWER")
    try:
        signal, _ = cross(gw, "BTCUSDT", ws)
        assert signal["llm_sentiment"] is None, signal
        # No explanation call: nothing follows the signal.
        assert not poll(lambda: any(e["event_type"] == "signal.explained" for _, e in stream(gw, "signals")), 1.0)
    finally:
        ws.close()
    assert rest(gw, "GET", f"/v1/signals/{signal['id']}", "VIEWER")[1]["explanation"] == signal["explanation"]

    reading = sentiment(gw, "BTC/USDT")
    expected = {"market": "BTCUSDT", "llm_sentiment": None, "reason": None, "as_of": None, "source": "fallback"}
    assert {k: reading.get(k, "missing") for k in expected} == expected, reading

    status, _, raw = gw.http("GET", "/metrics")
    assert status == 200 and "bedrock_engine_bars_processed_total" in raw.decode()
    counted = llm_counts(gw)
    assert all(v == 0 for v in counted.values()), {k: v for k, v in counted.items() if v}
    with gw.redis() as r:
        assert r.execute("XLEN", stream_key("news")) == 1


def test_journal_and_review_answer_503_without_a_provider(start_gateway):
    gw = start_gateway({"engine": {"strategies": []}})
    for path, body in (("/v1/journal/generate", {"trade_id": 1}),
                       ("/v1/review/generate", {"start_date": "2026-01-01", "end_date": "2026-01-31"})):
        status, answer = rest(gw, "POST", path, "TRADER", body)
        assert status == 503 and answer["error_code"] == "UNAVAILABLE", (path, status, answer)
        assert "llm.provider" in answer["message"], answer
    sock, _ = gw.session("TRADER", "journal")
    try:
        sock.send({"type": "request", "id": 1, "method": "review.generate",
                   "params": {"start_date": "2026-01-01", "end_date": "2026-01-31"}})
        frame = sock.expect(lambda f: f.get("id") == 1, skip=lambda f: True)
        assert frame["type"] == "error" and frame["error_code"] == "UNAVAILABLE", frame
    finally:
        sock.close()


def test_a_retry_after_holds_every_task_not_the_signal(start_gateway, llm):
    gw = start_gateway(llm_config(llm))
    feed(gw, "BTCUSDT", WARM_UP)
    llm.fail(429, retry_after="2")
    post_news(gw, "BTCUSDT", "Exchange under maintenance")
    wait_counted(gw, "sentiment", "rate_limited", 1)
    limited_at = llm.requests()[0]["received_at"]
    ws = subscribed(gw, "signals", "VIEWER")
    try:
        signal, took = cross(gw, "BTCUSDT", ws)
    finally:
        ws.close()
    assert took < 2.0 and signal["llm_sentiment"] == "NEUTRAL", (took, signal)
    answered_sentiment(gw, "BTCUSDT")  # asked again once the 2 s are over
    early = [round(c["received_at"] - limited_at, 2) for c in llm.requests()[1:]
             if c["received_at"] < limited_at + 1.95]
    assert not early, f"calls {early} s after a 429 with Retry-After: 2"
