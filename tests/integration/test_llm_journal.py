"""Journal and review (SPEC §12) black-box: the real gateway on a real redis-server, talking to the
scripted OpenAI-compatible fake (fakes/llm.py) as its provider. Bedrock computes the facts from the
ledger and puts them in the prompt; the model's Markdown comes back over REST and the socket, is
kept, and downloads as a `.md` file. A slow model is waited for past `redis.command_timeout_ms`;
with no provider both methods are 503 UNAVAILABLE.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from fakes import FakeLLM
from helpers import PREFIX, REPO, stream_key
from test_ledger_api import ERROR_KEYS, Socket, rest, run_script, signal

KEY = "sk-journal-test-0123456789"
NO_PROVIDER = "no LLM provider configured (llm.provider is none)"


@pytest.fixture
def llm():
    with FakeLLM() as fake:
        yield fake


def seed_open_position(redis_server) -> None:
    """Signal 1 and position 1 (BTCUSDT, BUY 2 at 100.5), written before the gateway starts (so no
    live explanation call is made for the signal), and a last BTCUSDT close at 107.25 for the
    manual close to use."""
    with redis_server.client() as r:
        out = run_script(r, "record_signal", signal("BTCUSDT", "2026-01-01T00:00:00Z", 100.5))
        assert out["status"] == "created", out
        opened = run_script(r, "open_position", {"signal_id": 1, "market": "BTCUSDT", "side": "BUY", "size": "2",
                                                 "entry_price": "100.5", "stop_loss_price": "95",
                                                 "commission_rate": 0.001, "position_weight_used": 0.5})
        assert opened["status"] == "opened", opened
        r.xadd(stream_key("klines:BTCUSDT:1h"), json.dumps(
            {"event_type": "kline.closed", "schema_version": "2.0", "timestamp": "2026-01-01T05:00:00Z",
             "market": "BTCUSDT", "interval": "1h", "open_time": "2026-01-01T04:00:00Z",
             "open": 106, "high": 108, "low": 105, "close": 107.25, "volume": 3}))


def start_with_provider(start_gateway, llm: FakeLLM, **config):
    env = {"BEDROCK_LLM_PROVIDER": "openai", "BEDROCK_LLM_BASE_URL": llm.base_url,
           "BEDROCK_LLM_MODEL": "journal-model", "BEDROCK_LLM_API_KEY": KEY}
    base = {"engine": {"strategies": []}, "llm": {"prompts_dir": str(REPO / "config" / "prompts"), "timeout_s": 5}}
    for section, values in config.items():
        base.setdefault(section, {}).update(values)
    return start_gateway(base, env=env)


def close_trade(gw) -> int:
    status, closed = rest(gw, "/v1/positions/1/close", "TRADER", "POST")
    assert status == 200 and closed["status"] == "CLOSED", closed
    return closed["trade_id"]


def prompts_about(llm: FakeLLM, needle: str) -> list[str]:
    """The user prompts of the recorded chat requests that contain `needle`."""
    found = []
    for request in llm.requests():
        body = request["body"] if isinstance(request["body"], dict) else {}
        text = "\n".join(m.get("content") or "" for m in body.get("messages", []))
        if needle in text:
            found.append(text)
    return found


def hash_of(r, key: str) -> dict[str, str]:
    flat = r.execute("HGETALL", key)
    return dict(zip(flat[::2], flat[1::2]))


def download(gw, path: str, role: str = "VIEWER"):
    return gw.http("GET", path, {"Authorization": f"Bearer {gw.token(role)}"})


def assert_error(status: int, body: dict, code: str, http_status: int) -> None:
    assert status == http_status, body
    assert body["error_code"] == code and set(body) == ERROR_KEYS, body


def test_journal_is_the_models_markdown_on_the_ledgers_facts_over_rest_and_socket(start_gateway, redis_server, llm):
    seed_open_position(redis_server)
    gw = start_with_provider(start_gateway, llm)
    trade_id = close_trade(gw)
    with gw.redis() as r:
        trade = hash_of(r, f"{PREFIX}trade:{trade_id}")
    assert trade["entry_price"] == "100.5" and trade["exit_price"] == "107.25", trade

    first = "# Trade %d\n\n## Setup\nA pullback entry.\n\n## Outcome\nClosed by hand at a profit." % trade_id
    llm.answer(first)
    status, answer = rest(gw, "/v1/journal/generate", "TRADER", "POST", {"trade_id": trade_id})
    assert status == 200, answer
    assert answer == {"trade_id": trade_id, "markdown": first, "download": f"/v1/journal/{trade_id}/markdown"}

    [prompt] = prompts_about(llm, f"Trade: {trade_id}")
    assert f"Realized pnl: {trade['pnl']}\n" in prompt, prompt
    assert "Entry: 100.5 at " in prompt and "Exit: 107.25 at " in prompt, prompt
    assert f"Commission: {trade['commission']}\n" in prompt and "Strategy: pullback" in prompt, prompt
    assert "{{" not in prompt, "every placeholder is filled"
    [request] = [q for q in llm.requests() if f"Trade: {trade_id}" in json.dumps(q["body"])]
    assert request["body"]["model"] == "journal-model"

    status, headers, body = download(gw, answer["download"])
    assert status == 200, body
    assert headers["content-type"] == "text/markdown; charset=utf-8"
    assert headers["content-disposition"] == f'attachment; filename="journal-trade-{trade_id}.md"'
    assert body.decode() == first

    second = "# Trade %d, again\n\nWritten over the socket." % trade_id
    llm.answer(second)
    sock = Socket(gw, "TRADER")
    try:
        frame = sock.call("journal.generate", {"trade_id": trade_id})
        assert frame["type"] == "response", frame
        assert frame["result"]["markdown"] == second and frame["result"]["trade_id"] == trade_id, frame
        refused = sock.call("journal.generate", {"trade_id": 999})
        assert refused["type"] == "error" and refused["error_code"] == "NOT_FOUND", refused
    finally:
        sock.close()
    assert download(gw, answer["download"])[2].decode() == second, "the newest entry replaces the first"
    gw.metrics_with('bedrock_llm_requests_total{task="journal",outcome="ok"} 2')

    llm.fail(500)
    status, body = rest(gw, "/v1/journal/generate", "TRADER", "POST", {"trade_id": trade_id})
    assert_error(status, body, "UNAVAILABLE", 503)
    assert KEY not in json.dumps(body)
    assert download(gw, answer["download"])[2].decode() == second, "a failed call stores nothing"

    assert_error(*rest(gw, "/v1/journal/generate", "TRADER", "POST", {"trade_id": "abc"}), "BAD_REQUEST", 400)
    assert_error(*rest(gw, "/v1/journal/generate", "VIEWER", "POST", {"trade_id": trade_id}), "FORBIDDEN", 403)
    status, _, raw = download(gw, "/v1/journal/999/markdown")
    assert_error(status, json.loads(raw), "NOT_FOUND", 404)


def test_review_of_today_counts_the_closed_trade_and_downloads(start_gateway, redis_server, llm):
    seed_open_position(redis_server)
    gw = start_with_provider(start_gateway, llm)
    trade_id = close_trade(gw)
    with gw.redis() as r:
        pnl = r.execute("HGET", f"{PREFIX}trade:{trade_id}", "pnl")
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    memo = "# Review\n\nOne trade, one lesson."
    llm.answer(memo)
    status, answer = rest(gw, "/v1/review/generate", "TRADER", "POST", {"start_date": today, "end_date": today})
    assert status == 200, answer
    assert (answer["trade_count"], answer["markdown"], answer["truncated"]) == (1, memo, False), answer
    [prompt] = prompts_about(llm, f"Period: {today} to {today}")
    assert "Closed trades: 1\n" in prompt and f"Total pnl: {pnl}\n" in prompt, prompt
    assert f"#{trade_id} " in prompt and f"pnl {pnl} (MANUAL)" in prompt, prompt
    status, headers, body = download(gw, answer["download"])
    assert status == 200 and body.decode() == memo, body
    assert headers["content-disposition"] == f'attachment; filename="review-{today}-{today}.md"'
    status, body = rest(gw, "/v1/review/generate", "TRADER", "POST", {"start_date": today, "end_date": "2000-01-01"})
    assert_error(status, body, "BAD_REQUEST", 400)
    assert body["message"].startswith("end_date"), body


def test_a_slow_model_is_waited_for_past_the_redis_timeout_while_a_stalled_redis_call_is_cut(
        start_gateway, redis_server, llm):
    seed_open_position(redis_server)
    gw = start_with_provider(start_gateway, llm, redis={"command_timeout_ms": 500})
    trade_id = close_trade(gw)
    llm.answer("# Slow\n\nTook a while.", delay_s=1.5)
    started = time.monotonic()
    status, answer = rest(gw, "/v1/journal/generate", "TRADER", "POST", {"trade_id": trade_id})
    took = time.monotonic() - started
    assert status == 200, answer
    assert answer["markdown"] == "# Slow\n\nTook a while."
    assert took >= 1.4, f"the model's delay was not waited for ({took:.2f} s)"

    # A normal call is still answered at redis.command_timeout_ms when Redis stalls.
    with gw.redis() as r:
        assert r.execute("CLIENT", "PAUSE", "1500", "ALL") == "OK"
        started = time.monotonic()
        status, body = rest(gw, "/v1/account")
        took = time.monotonic() - started
    assert_error(status, body, "UNAVAILABLE", 503)
    assert took < 1.4, f"a Redis call waited {took:.2f} s past its 0.5 s timeout"


def test_without_a_provider_journal_and_review_are_unavailable(start_gateway, redis_server):
    seed_open_position(redis_server)
    gw = start_gateway({"engine": {"strategies": []}})
    trade_id = close_trade(gw)
    status, body = rest(gw, "/v1/journal/generate", "TRADER", "POST", {"trade_id": trade_id})
    assert_error(status, body, "UNAVAILABLE", 503)
    assert body["message"] == NO_PROVIDER
    status, body = rest(gw, "/v1/review/generate", "TRADER", "POST",
                        {"start_date": "2026-01-01", "end_date": "2026-01-31"})
    assert_error(status, body, "UNAVAILABLE", 503)
    sock = Socket(gw, "TRADER")
    try:
        frame = sock.call("journal.generate", {"trade_id": trade_id})
        assert frame["type"] == "error" and frame["error_code"] == "UNAVAILABLE", frame
        assert frame["message"] == NO_PROVIDER
    finally:
        sock.close()
    status, _, raw = download(gw, f"/v1/journal/{trade_id}/markdown")
    assert_error(status, json.loads(raw), "NOT_FOUND", 404)
    with gw.redis() as r:
        assert r.execute("KEYS", f"{PREFIX}llm:*") == []
    # A provider-less gateway still answers everything else: Redis was not suspected.
    status, _ = rest(gw, "/v1/account")
    assert status == 200
