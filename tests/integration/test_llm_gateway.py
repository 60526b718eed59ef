"""News and sentiment through the real gateway (SPEC §12): `POST /v1/news` into the `news` stream
and topic, one coalesced call per market per batch window to the scripted fake model
(fakes/llm.py), `GET /v1/sentiment` answering `llm` then `cache` with no second call, the
cached answer dropped when the engine's price moves more than 5 %, and bad news refused.

Signals, explanations and no-provider behaviour: test_llm_signals.py; failures, the outage alert
and the API key: test_llm_failures.py. Setup shared with them: llm_setup.py.
"""

from __future__ import annotations

import re
import time

import pytest

from helpers import RFC3339, poll, stream_key, wait_until
from llm_setup import (answered_sentiment, feed, headlines, llm, llm_config, post_news, prompt,  # noqa: F401
                       rest, sentiment, subscribed, wait_counted)

PUBLISHED = lambda f: f.get("type") == "event" and f["data"].get("event_type") == "news.published"  # noqa: E731


def test_a_headline_gives_one_call_then_the_answer_from_llm_then_cache(start_gateway, llm):
    gw = start_gateway(llm_config(llm, batch_window_s=0.3))
    llm.answer("POSITIVE: spot ETF inflows beat forecasts")
    news_ws = subscribed(gw, "news", "VIEWER")
    try:
        posted_at = time.monotonic()
        answer = post_news(gw, "BTC/USDT", "Spot ETF inflows beat forecasts", source="wire",
                           url="https://news.example/etf", body="Net inflows of 1.2bn.")
        assert answer["market"] == "BTCUSDT", answer
        assert re.match(RFC3339, answer["published_at"]), answer
        event = news_ws.expect(PUBLISHED, timeout=5)
        assert event["topic"] == "news" and event["id"] == answer["event_id"], event
        data = event["data"]
        assert data["event_type"] == "news.published" and data["schema_version"] == "2.0", data
        assert (data["market"], data["title"], data["source"], data["url"], data["body"]) == (
            "BTCUSDT", "Spot ETF inflows beat forecasts", "wire", "https://news.example/etf", "Net inflows of 1.2bn.")
        assert data["published_at"] == answer["published_at"]
        assert [eid for eid, _ in headlines(gw)] == [answer["event_id"]]
        first = answered_sentiment(gw, "BTC/USDT")
        # The answer is shared on the same topic (every gateway on the Redis adopts it).
        shared = news_ws.expect(lambda f: f.get("type") == "event" and f["data"]["event_type"] == "sentiment.updated",
                                timeout=5)["data"]
        assert (shared["market"], shared["llm_sentiment"], shared["reason"]) == (
            "BTCUSDT", "POSITIVE", "spot ETF inflows beat forecasts"), shared
    finally:
        news_ws.close()
    assert first["market"] == "BTCUSDT" and first["source"] == "llm", first
    assert first["llm_sentiment"] == "POSITIVE" and first["reason"] == "spot ETF inflows beat forecasts", first
    assert re.match(RFC3339, first["as_of"]), first
    [call] = llm.requests()
    assert call["received_at"] - posted_at >= 0.3 * 0.9, "the call waited for the batch window"
    assert call["path"] == "/v1/chat/completions" and call["body"]["model"] == "test-model"
    text = prompt(call)
    assert "Spot ETF inflows beat forecasts" in text and "BTCUSDT" in text, text

    again = sentiment(gw, "btc-usdt")
    assert again["source"] == "cache", again
    assert {k: again[k] for k in ("market", "llm_sentiment", "reason", "as_of")} == \
        {k: first[k] for k in ("market", "llm_sentiment", "reason", "as_of")}
    assert llm.request_count() == 1, "the cached answer is served without a second call"
    wait_counted(gw, "sentiment", "ok", 1)

    # Without a market: one reading per market with news.
    status, listing = rest(gw, "GET", "/v1/sentiment", "VIEWER")
    assert status == 200, listing
    btc = [s for s in listing["data"] if s["market"] == "BTCUSDT"]
    assert len(btc) == 1 and btc[0]["llm_sentiment"] == "POSITIVE", listing
    # A market with no news: the fallback, and no call for it.
    quiet = sentiment(gw, "ETHUSDT")
    assert (quiet["llm_sentiment"], quiet["source"], quiet["reason"], quiet["as_of"]) == \
        ("NEUTRAL", "fallback", None, None), quiet
    assert llm.request_count() == 1


def test_a_burst_of_fifty_headlines_for_two_markets_costs_one_call_per_market_per_window(start_gateway, llm):
    window = 1.5
    gw = start_gateway(llm_config(llm, batch_window_s=window))
    llm.set_default("NEUTRAL: mixed headlines")
    titles = {"BTCUSDT": [], "ETHUSDT": []}
    started = time.monotonic()
    for i in range(50):
        market = "BTCUSDT" if i % 2 == 0 else "ETHUSDT"
        title = f"{market} headline number {i:02d}"
        titles[market].append(title)
        post_news(gw, market, title, source=f"desk-{i % 3}")
    burst = time.monotonic() - started

    stored = [e["title"] for _, e in headlines(gw)]
    assert stored == [f"{'BTCUSDT' if i % 2 == 0 else 'ETHUSDT'} headline number {i:02d}" for i in range(50)]

    for market in titles:
        assert answered_sentiment(gw, market, timeout=window + 10)["llm_sentiment"] == "NEUTRAL"
    # The calls the burst caused are over once a whole window passes without one.
    settled = llm.request_count()
    while poll(lambda: llm.request_count() > settled, window + 0.5):
        settled = llm.request_count()
    calls = llm.requests()
    windows = int(burst // window) + 1  # windows the burst touched
    assert 2 <= len(calls) <= 2 * windows, (len(calls), burst)
    by_market = {m: [c for c in calls if f"Market: {m}" in prompt(c)] for m in titles}
    assert sum(len(v) for v in by_market.values()) == len(calls), [prompt(c)[:200] for c in calls]
    for market, mine in by_market.items():
        other = "ETHUSDT" if market == "BTCUSDT" else "BTCUSDT"
        assert mine, f"no call for {market}"
        times = [c["received_at"] for c in mine]
        assert all(b - a >= window * 0.9 for a, b in zip(times, times[1:])), (market, times)
        last = prompt(mine[-1])
        assert titles[market][-1] in last, "the newest headline is in the market's call"
        assert not any(t in last for t in titles[other]), "a call holds only its market's headlines"

    # A late subscriber replays every headline from "0".
    ws = subscribed(gw, "news", "VIEWER", since="0")
    try:
        replayed = [ws.expect(PUBLISHED, timeout=5, skip=lambda f: True)["data"]["title"] for _ in range(50)]
    finally:
        ws.close()
    assert replayed == stored


def test_a_price_move_over_five_percent_drops_the_cached_answer_and_asks_again(start_gateway, llm):
    gw = start_gateway(llm_config(llm))
    feed(gw, "BTCUSDT", [100.0, 100.0, 100.0])  # constant closes: no sma_cross signal, price 100
    llm.answer("POSITIVE: ETF approved")
    post_news(gw, "BTCUSDT", "ETF approved")
    assert answered_sentiment(gw, "BTCUSDT")["llm_sentiment"] == "POSITIVE"
    assert llm.request_count() == 1
    assert re.search(r"Last price: 100(\.0+)?\n", prompt(llm.requests()[0])), "the engine's price is in the prompt"

    feed(gw, "BTCUSDT", [104.0], first=3)  # 4 %: still valid
    within = sentiment(gw, "BTCUSDT")
    assert (within["source"], within["llm_sentiment"]) == ("cache", "POSITIVE"), within
    assert llm.request_count() == 1

    # Delayed, so the reading right after the bar cannot race the new answer.
    llm.answer("NEGATIVE: profit taking after the rally", delay_s=1.5)
    feed(gw, "BTCUSDT", [106.5], first=4)  # 6.5 % from the price at the answer
    moved = sentiment(gw, "BTCUSDT")
    assert (moved["source"], moved["llm_sentiment"], moved["reason"]) == ("fallback", "NEUTRAL", None), moved
    wait_until(lambda: llm.request_count() >= 2, 10, "a new call after the price move", seen=llm.request_count)
    again = prompt(llm.requests()[1])
    assert "ETF approved" in again, "the market's headlines are asked again"
    assert re.search(r"Last price: 106\.50*\n", again), again
    fresh = answered_sentiment(gw, "BTCUSDT")
    assert (fresh["source"], fresh["llm_sentiment"], fresh["reason"]) == (
        "llm", "NEGATIVE", "profit taking after the rally"), fresh
    assert llm.request_count() == 2
    assert sentiment(gw, "BTCUSDT")["source"] == "cache"


def test_bad_news_is_refused_and_nothing_is_stored(start_gateway, llm):
    gw = start_gateway(llm_config(llm))
    good = {"market": "BTCUSDT", "title": "Exchange lists new pair", "source": "wire"}
    cases = [
        ("title", {k: v for k, v in good.items() if k != "title"}),
        ("title", dict(good, title="")),
        ("source", dict(good, source="")),
        ("source", {k: v for k, v in good.items() if k != "source"}),
        ("title", dict(good, title="x" * 50_000)),
        ("url", dict(good, url="javascript:alert(1)")),
        ("url", dict(good, url="ftp://news.example/a")),
        ("market", dict(good, market="BTC USDT")),
        ("market", dict(good, market="BTC//USDT")),
        ("published_at", dict(good, published_at="yesterday")),
    ]
    ws, _ = gw.session("TRADER", "news-sock")
    try:
        for n, (field, body) in enumerate(cases, start=1):
            status, answer = rest(gw, "POST", "/v1/news", "TRADER", body)
            assert status == 400 and answer["error_code"] == "BAD_REQUEST", (field, status, answer)
            assert field in answer["message"], (field, answer)
            ws.send({"type": "request", "id": n, "method": "news.publish", "params": body})
            frame = ws.expect(lambda f: f.get("id") == n and f.get("type") in ("response", "error"),
                              skip=lambda f: True)
            assert frame["type"] == "error" and frame["error_code"] == "BAD_REQUEST", (field, frame)
        status, answer = rest(gw, "POST", "/v1/news", "TRADER", b"{not json")
        assert status == 400 and answer["error_code"] == "BAD_REQUEST", answer
        status, answer = rest(gw, "POST", "/v1/news", "VIEWER", good)
        assert status == 403 and answer["error_code"] == "FORBIDDEN", answer
        ws_viewer, _ = gw.session("VIEWER", "news-viewer")
        try:
            ws_viewer.send({"type": "request", "id": 1, "method": "news.publish", "params": good})
            frame = ws_viewer.expect(lambda f: f.get("id") == 1, skip=lambda f: True)
            assert frame["type"] == "error" and frame["error_code"] == "FORBIDDEN", frame
        finally:
            ws_viewer.close()
        with gw.redis() as r:
            assert r.execute("XLEN", stream_key("news")) == 0, "a refused headline is not stored"
        assert not poll(llm.request_count, 0.2 + 0.5), "refused news asks the model nothing"
        # Well formed, the same headline is taken; without a market it is general news.
        answer = post_news(gw, None, "Exchange lists new pair", url="http://news.example/b")
        assert answer["market"] is None, answer
        [(eid, event)] = headlines(gw)
        assert eid == answer["event_id"] and event["title"] == "Exchange lists new pair", event
        assert event.get("market") is None, event
    finally:
        ws.close()


def test_news_appended_to_the_stream_by_anyone_is_rated_and_read_the_same_over_the_socket(start_gateway, llm):
    gw = start_gateway(llm_config(llm))
    llm.answer("NEGATIVE: exchange hacked")
    gw.xadd("news", {"event_type": "news.published", "schema_version": "2.0", "timestamp": "2026-12-07T09:30:00Z",
                     "market": "sol-usdt", "title": "Exchange hacked, SOL withdrawals paused", "source": "feed",
                     "published_at": "2026-12-07T09:30:00Z"})
    rest_reading = answered_sentiment(gw, "SOLUSDT")
    assert (rest_reading["llm_sentiment"], rest_reading["reason"]) == ("NEGATIVE", "exchange hacked"), rest_reading
    assert "Exchange hacked, SOL withdrawals paused" in prompt(llm.requests()[0])
    ws, _ = gw.session("VIEWER", "sentiment-sock")
    try:
        ws.send({"type": "request", "id": 1, "method": "sentiment.get", "params": {"market": "SOL/USDT"}})
        frame = ws.expect(lambda f: f.get("id") == 1, skip=lambda f: True)
        assert frame["type"] == "response", frame
        assert frame["result"] == dict(rest_reading, source="cache"), (frame, rest_reading)
        ws.send({"type": "request", "id": 2, "method": "sentiment.get", "params": {"market": "SOL USDT"}})
        frame = ws.expect(lambda f: f.get("id") == 2, skip=lambda f: True)
        assert frame["type"] == "error" and frame["error_code"] == "BAD_REQUEST", frame
    finally:
        ws.close()
    status, answer = rest(gw, "GET", "/v1/sentiment?market=SOL%20USDT", "VIEWER")
    assert status == 400 and answer["error_code"] == "BAD_REQUEST" and "market" in answer["message"], answer


def test_a_stream_entry_with_a_malformed_market_is_not_taken_as_news_for_every_market(start_gateway, llm):
    gw = start_gateway(llm_config(llm))
    post_news(gw, "BTCUSDT", "Miners hold their coins")
    answered_sentiment(gw, "BTCUSDT")
    gw.xadd("news", {"event_type": "news.published", "schema_version": "2.0", "market": "BTC USDT!!",
                     "title": "Rumour about some market", "source": "anonymous"})
    post_news(gw, "BTCUSDT", "Hashrate at a record")  # a proper headline: the next call shows what was kept
    wait_until(lambda: llm.request_count() >= 2, 10, "the second BTC call", seen=llm.request_count)
    text = prompt(llm.requests()[1])
    assert "Hashrate at a record" in text, text
    assert "Rumour about some market" not in text, "an entry whose market is malformed was taken as general news"


def test_an_answer_expires_after_cache_ttl_s_and_fresh_news_is_asked_again(start_gateway, llm):
    """After `cache_ttl_s` the answer is gone (fallback); news that old is not asked about again
    (it would keep a stale sentiment alive), fresh news is."""
    gw = start_gateway(llm_config(llm, cache_ttl_s=1))
    llm.answer("POSITIVE: upgrade shipped")
    llm.answer("NEUTRAL: nothing new")
    post_news(gw, "ETHUSDT", "Network upgrade shipped")
    first = answered_sentiment(gw, "ETHUSDT")
    assert first["llm_sentiment"] == "POSITIVE"
    expired = wait_until(lambda: (r := sentiment(gw, "ETHUSDT"))["source"] == "fallback" and r, 5,
                         "the answer to expire")
    # The answer came after its request arrived, so it may not expire before 1 s from then.
    assert time.monotonic() - llm.requests()[0]["received_at"] >= 1.0, "expired before cache_ttl_s"
    assert (expired["llm_sentiment"], expired["reason"]) == ("NEUTRAL", None), expired
    assert llm.request_count() == 1, "the expired headline is not asked about again"
    post_news(gw, "ETHUSDT", "Validators report a quiet week")
    again = answered_sentiment(gw, "ETHUSDT")
    assert (again["source"], again["reason"]) == ("llm", "nothing new"), again
    assert llm.request_count() == 2
    assert "Network upgrade shipped" not in llm.requests()[1]["body"]["messages"][-1]["content"]