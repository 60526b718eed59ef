"""Graceful drain on SIGTERM (SPEC §13, docs/ops/DRAIN.md): the gateway stops taking work at once
(`/ready` 503, upgrades and requests refused with 503), sends the answers already in flight, then
closes every socket with 1001; clients resume on another gateway with `since` and lose nothing;
jobs running on the drained gateway finish within `server.drain_timeout_s`; the process exits 0.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time

import pytest

from followers import Follower, Publisher, assert_every_event_once
from helpers import InvalidStatus, wait_until, write_wave_csv


def test_a_draining_gateway_refuses_new_work_and_sends_the_answer_in_flight(start_gateway, redis_server):
    gw = start_gateway({"redis": {"command_timeout_ms": 5000}}, redis=redis_server.url)
    ws, _ = gw.session("ADMIN", "inflight")
    viewer = {"Authorization": f"Bearer {gw.token('VIEWER')}"}
    # Redis frozen for 2 s: the answer to the request below is on its way the whole time.
    redis_server.proc.send_signal(signal.SIGSTOP)
    thaw = threading.Timer(2.0, redis_server.proc.send_signal, args=(signal.SIGCONT,))
    thaw.start()
    ws.send({"type": "request", "id": 7, "method": "risk.kill_switch", "params": {"enabled": True}})
    gw.metrics_with('bedrock_ws_requests_total{method="risk.kill_switch"} 1')
    gw.signal(signal.SIGTERM)
    # Out of service at once, while the answer is still on its way.
    wait_until(lambda: gw.get_json("/ready")[0] == 503, 2, "/ready 503")
    status, _, body = gw.get_json("/ready")
    assert body["status"] == "not_ready" and body["checks"]["accepting"] is False, body
    status, headers, raw = gw.http("GET", "/v1/account", viewer)
    assert status == 503 and json.loads(raw)["error_code"] == "UNAVAILABLE", raw
    assert {k.lower(): v for k, v in headers.items()}.get("connection") == "close", headers
    with pytest.raises(InvalidStatus) as refused:
        gw.session("VIEWER", "latecomer")
    assert refused.value.response.status_code == 503
    # The answer in flight arrives, then the close.
    answer = ws.expect(lambda f: f.get("id") == 7, timeout=10)
    assert answer["type"] == "response", answer
    code, after = ws.expect_close(10)
    assert code == 1001 and [f for f in after if f.get("type") == "error"] == [], after
    thaw.join()
    assert gw.stop(timeout=15) == 0, gw.log_text()


def test_drain_under_load_loses_nothing_and_lets_the_job_finish(start_gateway, redis_server, tmp_path):
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    write_wave_csv(datasets / "wave-1h.csv", 150_000)
    config = {"jobs": {"data_dir": str(datasets)}, "server": {"drain_timeout_s": 20}}
    drained = start_gateway(config, redis=redis_server.url)
    other = start_gateway(config, redis=redis_server.url)
    token = drained.token("TRADER", "load")
    urls = [f"ws://127.0.0.1:{gw.port}/ws?token={token}" for gw in (drained, other)]
    followers = [Follower(lambda attempt: urls[min(attempt, 1)], "signals") for _ in range(40)]
    for f in followers:
        f.connect()
    # Two clients calling the API the whole time: the drain sends them no error either.
    talkers = [Follower(lambda attempt: urls[min(attempt, 1)], "risk") for _ in range(2)]
    stop_talking = threading.Event()
    talker_errors: list[dict] = []

    def talk(t: Follower) -> None:
        n = 0
        while not stop_talking.is_set():
            if t.ws is None:
                t.connect()
            n += 1
            try:
                t.ws.send({"type": "request", "id": n + 1, "method": "account.get", "params": {}})
                a = t.ws.expect(lambda f: f.get("id") == n + 1 or f.get("type") == "error", 10, skip=lambda f: True)
                if a["type"] == "error":
                    talker_errors.append(a)
            except Exception:  # noqa: BLE001 - the 1001 close ends a socket mid-call: connect again
                t.ws = None
            time.sleep(0.05)  # within server.rate_limit_per_s

    talk_threads = [threading.Thread(target=talk, args=(t,), daemon=True) for t in talkers]
    for t in talk_threads:
        t.start()
    # A job running on the gateway that drains.
    submitter = Follower(lambda attempt: urls[min(attempt, 1)], "risk")
    submitter.connect()
    submitter.ws.send({"type": "request", "id": 9, "method": "backtest.submit",
                       "params": {"strategy": "sma_cross", "dataset": "wave-1h.csv"}})
    task = submitter.ws.expect(lambda f: f.get("id") == 9, 10, skip=lambda f: True)["result"]["task_id"]
    wait_until(lambda: status(other, task) == "RUNNING", 20, "the job running")

    publisher = Publisher(drained.xadd, "signals", count=600, interval=0.005)
    readers = [f.start(lambda f: publisher.all_seen_by(f), 60) for f in followers]
    wait_until(lambda: all(len(f.events) >= 20 for f in followers), 20, "events flowing to every client")
    assert status(other, task) == "RUNNING", "the job ended before the drain began: give it more bars"
    signalled = time.monotonic()
    drained.signal(signal.SIGTERM)
    drained.proc.wait(40)  # (`stop()` would send a second signal, which interrupts the jobs)
    code = drained.stop()
    took = time.monotonic() - signalled
    stop_talking.set()
    for t in readers + talk_threads:
        t.join(60)
    assert code == 0, drained.log_text()
    # Every socket was closed as soon as it was idle, not at the drain's deadline (20 s).
    closed = re.search(r"every connection closed ([0-9.]+) s after the signal", drained.log_text())
    assert closed and float(closed.group(1)) < 10, drained.log_text()[-3000:]
    assert status(other, task) == "COMPLETED", f"the job did not finish during the drain ({took:.1f} s)"
    for f in followers:
        assert f.failure is None, f.failure
        assert f.closes == [1001] and f.errors == [] and f.recovered == [True], (f.closes, f.errors, f.recovered)
        assert_every_event_once(f, publisher.ids)
    assert talker_errors == []
    assert all(t.sessions >= 2 for t in talkers), "the talkers went on on the other gateway"
    for f in followers + talkers + [submitter]:
        f.close()


def status(gw, task: str) -> str:
    _, _, body = gw.get_json(f"/v1/backtest/status/{task}",
                             {"Authorization": f"Bearer {gw.token('VIEWER')}"})
    return body["status"]
