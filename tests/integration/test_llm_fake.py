"""The fake LLM server (fakes/llm.py) checked once against the official `openai` Python client, an
independent reading of the chat-completions format: the client parses the fake's answers into
its typed objects and maps the fake's 429 and 500 to the errors it raises for the real service.
Also the fake as its own process (`python -m fakes llm`), the way the Swift tests run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import openai
import pytest

from fakes import FakeLLM

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def llm():
    with FakeLLM() as fake:
        yield fake


def client(fake: FakeLLM, timeout: float = 10) -> openai.OpenAI:
    # No retries: each scripted answer is seen as it is.
    return openai.OpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0, timeout=timeout)


def test_the_official_client_parses_a_completion_and_the_request_is_recorded(llm):
    llm.answer("POSITIVE: ETF inflows beat expectations")
    completion = client(llm).chat.completions.create(
        model="qwen-plus",
        messages=[{"role": "system", "content": "You rate news."}, {"role": "user", "content": "BTC: ETF inflows"}],
        temperature=0,
    )
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "qwen-plus"
    assert isinstance(completion.created, int)
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == "POSITIVE: ETF inflows beat expectations"
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.completion_tokens == 5

    [request] = llm.requests()
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["body"]["model"] == "qwen-plus"
    assert request["body"]["temperature"] == 0
    assert request["body"]["messages"][1] == {"role": "user", "content": "BTC: ETF inflows"}


def test_unscripted_calls_get_the_default_answer_and_json_mode_is_accepted(llm):
    llm.set_default('{"sentiment": "NEUTRAL", "reason": "quiet"}')
    completion = client(llm).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], response_format={"type": "json_object"})
    assert json.loads(completion.choices[0].message.content) == {"sentiment": "NEUTRAL", "reason": "quiet"}
    assert llm.requests()[0]["body"]["response_format"] == {"type": "json_object"}


def test_429_is_the_clients_rate_limit_error_with_retry_after(llm):
    llm.fail(429, retry_after="7")
    with pytest.raises(openai.RateLimitError) as caught:
        client(llm).chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.type == "rate_limit_error"


def test_500_is_the_clients_server_error_then_the_next_answer_succeeds(llm):
    llm.fail(500)
    llm.answer("NEGATIVE: exchange hack")
    api = client(llm)
    with pytest.raises(openai.InternalServerError) as caught:
        api.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 500
    ok = api.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert ok.choices[0].message.content == "NEGATIVE: exchange hack"
    assert llm.request_count() == 2


def test_delay_and_hang_run_into_the_clients_timeout(llm):
    llm.answer("late", delay_s=3)
    llm.hang()
    api = client(llm, timeout=0.5)
    for _ in range(2):
        with pytest.raises(openai.APITimeoutError):
            api.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_a_request_without_messages_is_a_400_and_keeps_the_script(llm):
    llm.answer("kept")
    api = client(llm)
    with pytest.raises(openai.BadRequestError):
        api.chat.completions.create(model="m", messages=[])
    assert api.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}]) \
        .choices[0].message.content == "kept"


def test_the_fake_as_a_process_is_scripted_over_its_control_routes():
    here = Path(__file__).parent
    proc = subprocess.Popen([sys.executable, "-m", "fakes", "llm"], cwd=here, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        control = ready["control"]

        def call(path: str):
            with urllib.request.urlopen(control + path, timeout=5) as resp:
                return json.load(resp)["result"]

        assert call("answer?text=POSITIVE%3A%20up&times=2") == 2
        api = openai.OpenAI(base_url=ready["base_url"], api_key=KEY, max_retries=0, timeout=5)
        for _ in range(2):
            assert api.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]).choices[0].message.content == "POSITIVE: up"
        recorded = call("requests")
        assert [r["headers"]["authorization"] for r in recorded] == [f"Bearer {KEY}"] * 2
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(control + "fail?status=200", timeout=5)
        assert caught.value.code == 400
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
