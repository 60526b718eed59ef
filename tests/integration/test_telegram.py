"""Telegram notifications (SPEC §14) against a local Bot API stand-in: the stand-in checked once
with pyTelegramBotAPI (an independent client), then the gateway's readable messages for a signal,
a fill and a stop-out (made by the real ledger and engine), the kill switch (the real endpoint)
and a job done on `user:<sub>`; Telegram's 429 `retry_after` honoured; the bot token in no log
line and no metric."""

from __future__ import annotations

import json
import time

import pytest
import telebot
from telebot import apihelper
from telebot.apihelper import ApiTelegramException

from fakes import FakeTelegram
from helpers import stream_key, wait_until
from test_ledger_api import rest
from test_manual_entry import FAST, kline, open_position

TOKEN = "7000000001:AAbedrock-test-token-0123456789"
CHAT = 424242


@pytest.fixture
def telegram():
    with FakeTelegram(TOKEN) as fake:
        yield fake


def test_the_stand_in_answers_an_independent_client(telegram, monkeypatch):
    monkeypatch.setattr(apihelper, "API_URL", telegram.api_url + "/bot{0}/{1}")
    bot = telebot.TeleBot(TOKEN)
    sent = bot.send_message(CHAT, "hello from the test", disable_notification=True)
    assert (sent.message_id, sent.chat.id, sent.chat.type, sent.text) == (1, CHAT, "private", "hello from the test")
    assert sent.from_user.is_bot and sent.date > 0
    channel = bot.send_message("@bedrock_alerts", "to a channel")
    assert channel.chat.type == "channel" and channel.chat.username == "bedrock_alerts"

    telegram.flood([7])
    with pytest.raises(ApiTelegramException) as flood:
        bot.send_message(CHAT, "too fast")
    assert flood.value.error_code == 429 and flood.value.result_json["parameters"]["retry_after"] == 7
    with pytest.raises(ApiTelegramException) as empty:
        bot.send_message(CHAT, " ")
    assert empty.value.error_code == 400
    with pytest.raises(ApiTelegramException) as wrong:
        telebot.TeleBot("1:wrong").send_message(CHAT, "x")
    assert wrong.value.error_code == 401
    assert telegram.texts() == ["hello from the test", "to a channel"]


def telegram_config(fake: FakeTelegram, **settings) -> dict:
    n = {"telegram": {"bot_token": TOKEN, "chat_id": CHAT, "api_url": fake.api_url,
                      "topics": ["signals", "portfolio", "risk", "user:alice"]},
         "backoff_base_s": 0.1, "backoff_max_s": 0.3, "timeout_s": 2, "claim_idle_s": 1}
    n.update(settings)
    return {**FAST, "notifications": n, "circuit": {"cooldown_s": 0.3}}


def wait_for_groups(gw, topics=("signals", "portfolio", "risk", "user:alice")) -> None:
    def ready() -> bool:
        with gw.redis() as r:
            for t in topics:
                try:
                    groups = r.execute("XINFO", "GROUPS", "bedrock:stream:" + t)
                except Exception:
                    return False
                if not any("bedrock:notify:telegram" in g for g in groups):
                    return False
        return True
    wait_until(ready, 10, "the telegram consumer groups")


def message_with(fake: FakeTelegram, *words: str) -> str:
    return wait_until(lambda: next((t for t in fake.texts() if all(w in t for w in words)), None), 20,
                      f"a Telegram message with {words}", seen=fake.texts)


def test_readable_messages_for_signal_fill_stop_out_kill_switch_and_job(start_gateway, telegram):
    gw = start_gateway(telegram_config(telegram))
    wait_for_groups(gw)
    gw.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 0, 99, 101, 98, 100))
    gw.xadd("signals", {"event_type": "signal.created", "schema_version": "2.0", "timestamp": "2026-01-01T01:00:00Z",
                        "id": 17, "market": "BTCUSDT", "interval": "1h", "strategy": "sma_cross",
                        "signal_type": "ENTRY", "side": "BUY", "entry_price": 100.5, "stop_loss_price": 95,
                        "profit_target_price": 120, "suggested_position_weight": 0.75,
                        "ml_confidence_score": 0.82, "final_decision": "APPROVED"})
    signal = message_with(telegram, "Signal")
    assert signal.splitlines() == ["Signal: BUY BTCUSDT (1h)", "Entry 100.5, stop 95, target 120",
                                   "Suggested weight 75%", "Strategy sma_cross, ML confidence 0.82"], signal

    status, opened = open_position(gw, {"market": "BTCUSDT", "side": "BUY", "size": 2, "stop_loss_price": 95,
                                        "profit_target_price": 120})
    assert status == 200, opened
    fill = message_with(telegram, "Position opened")
    assert fill.splitlines()[0] == "Position opened: BUY 2 BTCUSDT at 100", fill
    assert "Stop 95, target 120" in fill and f"Position #{opened['id']}" in fill

    gw.xadd("klines:BTCUSDT:1h", kline("BTCUSDT", 1, 99, 100, 94, 96))  # trades through the stop
    stop = message_with(telegram, "Position closed")
    assert stop.startswith("Position closed: BTCUSDT stop-out (STOP_LOSS) at 95"), stop
    assert "P&L -" in stop and "ROI -" in stop, stop

    status, _ = rest(gw, "/v1/risk/kill-switch", role="ADMIN", method="POST",
                     body={"enabled": True, "reason": "exchange outage"})
    assert status == 200
    kill = message_with(telegram, "KILL SWITCH")
    assert kill.startswith("KILL SWITCH ENGAGED by alice: new entries are refused"), kill
    assert "exchange outage" in kill

    gw.xadd("user:alice", {"event_type": "job.completed", "schema_version": "2.0", "task_id": "bt-42",
                           "kind": "backtest", "status": "FAILED", "error": "dataset not found"})
    job = message_with(telegram, "Job done")
    assert job.splitlines() == ["Job done: backtest bt-42 FAILED", "Error: dataset not found", "For alice"], job

    for m in telegram.messages:
        assert m["chat_id"] == CHAT and m["disable_web_page_preview"] is True, m
    assert len(telegram.texts()) == 5, telegram.texts()  # the marks of the position made no message
    text = gw.metrics_with('bedrock_telegram_messages_total{result="sent"} 5')
    assert TOKEN not in text and TOKEN not in gw.log_text()
    assert TOKEN.split(":")[1] not in gw.log_text()


def test_a_429_retry_after_is_honoured(start_gateway, telegram):
    gw = start_gateway(telegram_config(telegram))
    wait_for_groups(gw)
    telegram.flood([2])
    refused_at = time.monotonic()
    gw.xadd("risk", {"event_type": "risk.alert", "action": "ENTRY_REFUSED", "market": "ETHUSDT",
                     "reasons": [{"code": "DAILY_LOSS_LIMIT", "message": "daily loss limit reached"}]})
    text = message_with(telegram, "entry refused")
    waited = time.monotonic() - refused_at
    assert text == "Risk: entry refused for ETHUSDT\n- DAILY_LOSS_LIMIT: daily loss limit reached", text
    assert len(telegram.refused) == 1 and waited >= 1.9, (telegram.refused, waited)
    gw.metrics_with('bedrock_telegram_messages_total{result="retried"} 1')


def add_alerts_in_one_batch(gw, count: int) -> None:
    """Appends `count` risk alerts (markets M0USDT, M1USDT, …) in one MULTI, so one gateway's
    thread reads them in one XREADGROUP: one batch."""
    with gw.redis() as r:
        r.execute("MULTI")
        for n in range(count):
            r.execute("XADD", stream_key("risk"), "*", "event", json.dumps(
                {"event_type": "risk.alert", "action": "ENTRY_REFUSED", "market": f"M{n}USDT",
                 "reasons": [{"code": "DAILY_LOSS_LIMIT", "message": "daily loss limit reached"}]}))
        r.execute("EXEC")


def test_a_429_holds_the_rest_of_the_batch_too(start_gateway, telegram):
    """Events read together: after the first is refused with retry_after, none of the others is
    sent before it has passed, and all arrive after it."""
    gw = start_gateway(telegram_config(telegram))
    wait_for_groups(gw)
    telegram.flood([2])
    add_alerts_in_one_batch(gw, 5)
    wait_until(lambda: len(telegram.messages) == 5, 15, "the five messages", seen=lambda: telegram.answered)
    (refused_at, status), *sent = telegram.answered
    assert status == 429 and len(sent) == 5, telegram.answered
    assert all(at - refused_at >= 1.9 for at, _ in sent), [(round(at - refused_at, 2), st) for at, st in sent]


def test_a_429_pause_longer_than_a_claim_keeps_the_batch_from_another_gateway(start_gateway, telegram):
    """The pause outlasts timeout_s + claim_idle_s: the gateway that was refused keeps its pending
    events, so the other gateway sends none of them during the pause, and all arrive in order."""
    config = telegram_config(telegram, timeout_s=0.5, claim_idle_s=0.5)
    gw = start_gateway(config)
    start_gateway(config)
    wait_for_groups(gw)
    telegram.flood([3])
    add_alerts_in_one_batch(gw, 5)
    wait_until(lambda: len(telegram.messages) == 5, 20, "the five messages", seen=lambda: telegram.answered)
    (refused_at, status), *sent = telegram.answered
    assert status == 429 and len(sent) == 5, telegram.answered
    assert all(at - refused_at >= 2.9 for at, _ in sent), [(round(at - refused_at, 2), st) for at, st in sent]
    assert [t.split(" for ")[1].split("\n")[0] for t in telegram.texts()] == [f"M{n}USDT" for n in range(5)]
