"""Signed webhooks (SPEC §14, docs/NOTIFICATIONS.md) against a local receiver that verifies every
signature: the body and headers a receiver sees, a 500 then 200 delivered once, a receiver down
past the retry window (dead letter with its fields and the metric), two gateways sharing the
Redis delivering each event once, a restart resuming what was left, events read by a killed
gateway taken over, a slow receiver getting each event of a long batch once, the circuit, and the
config checks."""

from __future__ import annotations

import json
import re
import signal as signal_mod
import subprocess

from fakes import WebhookReceiver
from helpers import BEDROCK_BIN, PREFIX, RFC3339, free_port, stream_key, wait_until

SECRET = "whsec-test-0123456789abcdef"
DEAD = PREFIX + "notifications:dead"


def hook_config(url: str, topics=("signals", "user:alice"), **settings) -> dict:
    n = {"webhooks": [{"name": "backend", "url": url, "topics": list(topics), "secret": SECRET}],
         "backoff_base_s": 0.1, "backoff_max_s": 0.4, "timeout_s": 2, "claim_idle_s": 1}
    n.update(settings)
    return {"notifications": n, "circuit": {"cooldown_s": 0.3}}


def wait_for_group(gw, topic: str = "signals", target: str = "backend") -> None:
    """The webhook's consumer group starts at `$`: only events after it exists are delivered."""
    def exists() -> bool:
        with gw.redis() as r:
            try:
                groups = r.execute("XINFO", "GROUPS", stream_key(topic))
            except Exception:
                return False
        return any(PREFIX + "notify:" + target in g for g in groups)
    wait_until(exists, 10, f"the consumer group of {target} on {topic}")


def signal(n: int) -> dict:
    return {"event_type": "signal.created", "schema_version": "2.0", "timestamp": "2026-01-01T00:00:00.000Z",
            "id": n, "market": "BTCUSDT", "side": "BUY", "entry_price": 50000 + n}


def metric(gw, result: str, webhook: str = "backend") -> float:
    line = f'bedrock_webhook_deliveries_total{{webhook="{webhook}",result="{result}"}} '
    for l in gw.http("GET", "/metrics")[2].decode().splitlines():
        if l.startswith(line):
            return float(l[len(line):])
    return 0.0


def test_signed_delivery_body_and_headers(start_gateway):
    with WebhookReceiver(SECRET) as hook:
        gw = start_gateway(hook_config(hook.url))
        wait_for_group(gw)
        wait_for_group(gw, "user:alice")
        event = signal(1)
        sid = gw.xadd("signals", event)
        uid = gw.xadd("user:alice", {"event_type": "job.completed", "task_id": "t1", "kind": "backtest",
                                     "status": "COMPLETED"})
        wait_until(lambda: len(hook.accepted()) == 2, 10, "both events delivered", seen=lambda: hook.requests)
        got = hook.accepted()
        assert got[f"signals/{sid}"] == {"topic": "signals", "id": sid, "data": event}
        assert got[f"user:alice/{uid}"]["data"]["task_id"] == "t1"
        for r in hook.requests:
            assert r["signature_ok"] and r["content_type"] == "application/json", r
            assert re.match(RFC3339, r["timestamp"]), r
        wait_until(lambda: metric(gw, "delivered") == 2, 5, "delivered counted twice")
        text = gw.http("GET", "/metrics")[2].decode()
        assert "bedrock_notifications_pending" in text
        assert SECRET not in text and SECRET not in gw.log_text()


def test_a_500_then_200_is_delivered_once(start_gateway):
    with WebhookReceiver(SECRET) as hook:
        hook.script([500])
        gw = start_gateway(hook_config(hook.url))
        wait_for_group(gw)
        sid = gw.xadd("signals", signal(2))
        wait_until(lambda: f"signals/{sid}" in hook.accepted(), 10, "the retry accepted", seen=lambda: hook.requests)
        wait_until(lambda: (metric(gw, "retried"), metric(gw, "delivered"), metric(gw, "dead")) == (1, 1, 0), 5,
                   "one retry and one delivery counted")
        gw.metrics_with("bedrock_notifications_pending 0")
        assert [r["status"] for r in hook.seen(f"signals/{sid}")] == [500, 200]
        assert hook.duplicates == 0
        with gw.redis() as r:
            assert r.execute("ZCARD", PREFIX + "notifications:retry:backend") == 0


def test_a_receiver_down_past_the_retry_window_dead_letters(start_gateway):
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    gw = start_gateway(hook_config(down, retry_window_s=1.5))
    wait_for_group(gw)
    event = signal(3)
    sid = gw.xadd("signals", event)
    with gw.redis() as r:
        entries = wait_until(lambda: r.xrange(DEAD), 10, "a dead letter")
    assert len(entries) == 1
    fields = entries[0][1]
    assert json.loads(fields["event"]) == {"topic": "signals", "id": sid, "data": event}
    assert (fields["webhook"], fields["topic"], fields["id"]) == ("backend", "signals", sid)
    assert int(fields["attempts"]) >= 2
    assert "connect" in fields["last_error"], fields
    assert re.match(RFC3339, fields["first_attempt_at"]) and re.match(RFC3339, fields["dead_at"])
    wait_until(lambda: metric(gw, "dead") == 1, 5, "the dead letter counted")
    # `attempts` are real calls: each failed one counts as retried, except the last when it was the
    # one that went dead (the dead one may instead be a circuit refusal, counted `held`, no attempt).
    assert int(fields["attempts"]) - 1 <= metric(gw, "retried") <= int(fields["attempts"])
    gw.metrics_with("bedrock_notifications_pending 0")


def test_two_gateways_sharing_redis_deliver_each_event_once(start_gateway):
    with WebhookReceiver(SECRET) as hook:
        hook.script([503] * 5)  # some go through the retry set too
        a = start_gateway(hook_config(hook.url))
        b = start_gateway(hook_config(hook.url))
        wait_for_group(a)
        ids = [a.xadd("signals", signal(100 + n)) for n in range(60)]
        wait_until(lambda: len(hook.accepted()) == 60, 20, "60 deliveries", seen=lambda: len(hook.accepted()))
        assert set(hook.accepted()) == {f"signals/{i}" for i in ids}
        a.metrics_with("bedrock_notifications_pending 0")
        assert hook.duplicates == 0
        wait_until(lambda: metric(a, "delivered") + metric(b, "delivered") == 60, 5, "60 deliveries counted")
        # Five failed calls; more retries when the circuit opened and held deliveries back.
        assert metric(a, "retried") + metric(b, "retried") >= 5


def test_a_restarted_gateway_resumes_retries_and_unread_events(start_gateway):
    with WebhookReceiver(SECRET) as hook:
        hook.default_status = 503
        config = hook_config(hook.url, backoff_base_s=0.2, backoff_max_s=0.5)
        gw = start_gateway(config)
        wait_for_group(gw)
        first = [gw.xadd("signals", signal(200 + n)) for n in range(3)]
        with gw.redis() as r:
            wait_until(lambda: r.execute("ZCARD", PREFIX + "notifications:retry:backend") == 3, 10,
                       "three deliveries waiting for a retry")
        stopped = f"-{gw.proc.pid}-"
        assert any(stopped in n for n in consumers(gw)), consumers(gw)
        assert gw.stop() == 0
        later = [gw.xadd("signals", signal(300 + n)) for n in range(2)]  # published while no gateway runs
        hook.default_status = 200
        again = start_gateway(config)
        wait_until(lambda: len(hook.accepted()) == 5, 15, "all five delivered after the restart",
                   seen=lambda: hook.requests[-5:])
        assert set(hook.accepted()) == {f"signals/{i}" for i in first + later}
        again.metrics_with("bedrock_notifications_pending 0")
        assert hook.duplicates == 0

        # The stopped gateway's consumers (idle, nothing pending) are removed from the group.
        wait_until(lambda: not [n for n in consumers(again) if stopped in n], 10,
                   "the stopped gateway's consumers removed", seen=lambda: consumers(again))


def consumers(gw) -> list[str]:
    """The consumer names of the webhook's group on `signals`."""
    with gw.redis() as r:
        return [dict(zip(c[0::2], c[1::2]))["name"]
                for c in r.execute("XINFO", "CONSUMERS", stream_key("signals"), PREFIX + "notify:backend")]


def test_events_read_by_a_killed_gateway_are_taken_over(start_gateway):
    with WebhookReceiver(SECRET) as hook:
        hook.hold()  # the first deliveries hang: their events stay read and unacknowledged
        config = hook_config(hook.url)
        gw = start_gateway(config)
        wait_for_group(gw)
        ids = [gw.xadd("signals", signal(500 + n)) for n in range(3)]

        def pending() -> int:
            with gw.redis() as r:
                return r.execute("XPENDING", stream_key("signals"), PREFIX + "notify:backend")[0]
        wait_until(lambda: pending() == 3 and hook.held >= 1, 10, "three events read, a POST hanging")
        gw.stop(signal_mod.SIGKILL)
        hook.release()
        again = start_gateway(config)  # takes them over after timeout_s + claim_idle_s (3 s)
        wait_until(lambda: len(hook.accepted()) == 3, 15, "the three delivered by the new gateway",
                   seen=lambda: hook.requests)
        assert set(hook.accepted()) == {f"signals/{i}" for i in ids} and hook.duplicates == 0
        wait_until(lambda: pending() == 0, 5, "nothing left pending")


def test_a_slow_receiver_gets_each_event_of_a_long_batch_once(start_gateway, redis_server):
    """A batch far longer than timeout_s + claim_idle_s: the other thread must not take over its
    delivered or not-yet-tried events (each is acknowledged when delivered, the rest renewed)."""
    with WebhookReceiver(SECRET) as hook:
        hook.delay = 0.3
        gw = start_gateway(hook_config(hook.url, topics=("signals",), timeout_s=1, claim_idle_s=0.5,
                                       concurrency=2, backoff_base_s=5, backoff_max_s=5))
        wait_for_group(gw)
        with gw.redis() as r:  # all in one go: one thread's XREADGROUP reads the whole batch
            r.execute("MULTI")
            for n in range(14):
                r.execute("XADD", stream_key("signals"), "*", "event", json.dumps(signal(700 + n)))
            r.execute("EXEC")

        def pending() -> int:
            with gw.redis() as r:
                return (r.execute("XPENDING", stream_key("signals"), PREFIX + "notify:backend")[0]
                        + r.execute("ZCARD", PREFIX + "notifications:retry:backend"))
        wait_until(lambda: len(hook.accepted()) == 14 and pending() == 0, 30, "14 delivered, nothing pending",
                   seen=lambda: (len(hook.accepted()), hook.count))
        assert hook.duplicates == 0 and hook.count == 14


def test_an_open_circuit_sends_nothing_until_its_cool_down_ends(start_gateway):
    with WebhookReceiver(SECRET) as hook:
        hook.default_status = 500
        # One delivery thread, so no call is already in flight when the circuit opens.
        gw = start_gateway({**hook_config(hook.url, concurrency=1), "circuit": {"failure_threshold": 2, "cooldown_s": 2}})
        wait_for_group(gw)
        ids = [gw.xadd("signals", signal(400 + n)) for n in range(10)]
        with gw.redis() as r:
            wait_until(lambda: r.execute("ZCARD", PREFIX + "notifications:retry:backend") == 10, 5,
                       "all ten waiting for a retry")
        assert hook.count == 2, hook.requests  # two failures opened the circuit: the rest were not sent
        assert "circuit opened after 2 failures" in gw.log_text()
        hook.default_status = 200
        wait_until(lambda: len(hook.accepted()) == 10, 15, "all ten delivered once the circuit closed",
                   seen=lambda: hook.requests[-3:])
        assert set(hook.accepted()) == {f"signals/{i}" for i in ids} and hook.duplicates == 0


def config_error(tmp_path, notifications: dict) -> str:
    cfg = tmp_path / "bedrock.json"
    cfg.write_text(json.dumps({"mode": "dev", "data_dir": str(tmp_path / "data"),
                               "jwt": {"secret": "x" * 40}, "notifications": notifications}))
    r = subprocess.run([str(BEDROCK_BIN), "token", "--config", str(cfg), "--sub", "a", "--role", "VIEWER"], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r
    return r.stderr


def test_bad_notification_config_is_refused_naming_the_entry(tmp_path):
    short = "short-secret"
    err = config_error(tmp_path, {"webhooks": [{"url": "http://x/h", "topics": ["signals"], "secret": short}]})
    assert "notifications.webhooks[0]" in err and "16" in err and short not in err, err
    err = config_error(tmp_path, {"webhooks": [{"name": "ok", "url": "ftp://x/h", "topics": ["signals"],
                                                "secret": SECRET}]})
    assert "notifications.webhooks[0]" in err and "url" in err and SECRET not in err, err
    err = config_error(tmp_path, {"webhooks": [{"url": "http://x/h", "topics": ["signals", "nope"],
                                                "secret": SECRET}]})
    assert "unknown topic \"nope\"" in err, err
    err = config_error(tmp_path, {"telegram": {"bot_token": "123:abc", "topics": ["signals"]}})
    assert "notifications.telegram" in err and "chat_id" in err and "123:abc" not in err, err
