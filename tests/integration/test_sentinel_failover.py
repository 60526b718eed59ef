"""Redis Sentinel failover (SPEC §13): a gateway on `redis-sentinel://` keeps its clients' sockets
when the master is killed, follows the promoted replica, and delivers every acknowledged event
exactly once; with `redis.min_replicas_to_ack` every acknowledged ledger write survives the
failover, and a write no replica confirmed is answered 503 UNAVAILABLE.

Real processes: redis-server master + replica and three redis-sentinel (tests/integration/
sentinel.py), the gateway binary, a websockets client, and a publisher writing straight to
whichever server the Sentinels name as master. An event counts as acknowledged when `WAIT 1`
confirmed it reached the replica: only those must survive the master's death.
"""

from __future__ import annotations

import json
import threading
import time

from helpers import PREFIX, make_jwt, poll, stream_key, wait_until
from resp import RedisError
from sentinel import sentinel_cluster  # noqa: F401  (fixture)

TOPIC = "signals"


class Publisher(threading.Thread):
    """XADDs a numbered event every 20 ms to the current master, then `WAIT 1 200`; keeps the ids
    the replica acknowledged, and every id written per master port. Follows the master by asking
    the Sentinels after any error."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.stop_flag = threading.Event()
        self.acked: list[str] = []
        self.written: dict[int, list[str]] = {}
        self.sent = 0
        self.lock = threading.Lock()

    def run(self) -> None:
        conn = None
        while not self.stop_flag.is_set():
            try:
                if conn is None:
                    port, conn = self.cluster.connect_to_master()
                self.sent += 1
                event = json.dumps({"event_type": "signal.created", "schema_version": "2.0", "n": self.sent})
                entry = conn.xadd(stream_key(TOPIC), event)
                with self.lock:
                    self.written.setdefault(port, []).append(entry)
                if conn.execute("WAIT", 1, 200) >= 1:
                    with self.lock:
                        self.acked.append(entry)
            except (OSError, RedisError, AssertionError, TypeError):
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.02)
        if conn is not None:
            conn.close()

    def acknowledged(self) -> list[str]:
        with self.lock:
            return list(self.acked)

    def written_to(self, port: int) -> list[str]:
        with self.lock:
            return list(self.written.get(port, []))


def test_master_killed_clients_keep_sockets_and_every_acknowledged_event(sentinel_cluster, start_gateway):
    cluster = sentinel_cluster
    gw = start_gateway(redis=cluster.url)
    wait_until(lambda: gw.get_json("/ready")[0] == 200, 15, "/ready 200 through Sentinel")
    ws, welcome = gw.session("VIEWER", "watcher")
    assert gw.subscribe(ws, TOPIC)["type"] == "subscribed"

    received: list[str] = []

    def drain(until: float) -> None:
        while time.monotonic() < until:
            try:
                frame = ws.recv(timeout=max(0.01, until - time.monotonic()))
            except TimeoutError:
                return
            assert frame.get("type") != "error", frame
            if frame.get("type") == "event" and frame.get("topic") == TOPIC:
                received.append(frame["id"])

    publisher = Publisher(cluster)
    publisher.start()
    try:
        wait_until(lambda: (drain(time.monotonic() + 0.1), len(received) >= 10)[1], 10,
                   "events before the failover", seen=lambda: len(received))
        old = cluster.kill_master()
        killed_at = time.monotonic()
        new = cluster.wait_failover(old)
        assert new == cluster.initial_replica
        # Events written to the new master reach the socket opened before the failover.
        wait_until(lambda: (drain(time.monotonic() + 0.1),
                            any(i in received for i in publisher.written_to(new)))[1],
                   15, "an event written to the new master on the old socket", seen=lambda: received[-3:])
        print(f"master killed -> events flowing again: {time.monotonic() - killed_at:.2f} s")
    finally:
        publisher.stop_flag.set()
        publisher.join(5)

    # Acknowledged before the failover (on the replica), or written to the new master afterwards.
    must = set(publisher.acknowledged()) | set(publisher.written_to(new))
    wait_until(lambda: (drain(time.monotonic() + 0.1), must <= set(received))[1], 10,
               "every acknowledged event on the socket", seen=lambda: sorted(must - set(received))[:5])
    assert len(received) == len(set(received)), "an event was delivered twice"
    assert received == sorted(received, key=lambda i: tuple(map(int, i.split("-")))), "events out of order"
    ws.roundtrip_ping()  # the same socket, still served
    wait_until(lambda: gw.get_json("/ready")[0] == 200, 15, "/ready 200 again")
    gw.metrics_with("bedrock_redis_failovers_total 1")
    gw.metrics_with(f'bedrock_redis_master_info{{address="127.0.0.1:{new}"}} 1')
    ws.close()


def admin(sub: str) -> dict:
    tok = make_jwt({"sub": sub, "role": "ADMIN", "exp": int(time.time()) + 600})
    return {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}


def test_acknowledged_ledger_writes_survive_failover_and_unconfirmed_ones_are_refused(
        sentinel_cluster, start_gateway):
    cluster = sentinel_cluster
    gw = start_gateway({"redis": {"min_replicas_to_ack": 1, "replica_ack_timeout_ms": 300}}, redis=cluster.url)
    wait_until(lambda: gw.get_json("/ready")[0] == 200, 15, "/ready 200 through Sentinel")

    acknowledged: list[str] = []  # token subjects whose kill-switch change was answered 200
    refusals: list[dict] = []
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            sub = f"w{n}"
            body = json.dumps({"enabled": n % 2 == 1}).encode()
            try:
                status, _, data = gw.http("POST", "/v1/risk/kill-switch", admin(sub), body, timeout=5)
            except OSError:
                continue
            answer = json.loads(data)
            if status == 200 and answer.get("kill_switch_updated_by") == sub:
                acknowledged.append(sub)
            elif status == 503:
                refusals.append(answer)
            time.sleep(0.02)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait_until(lambda: len(acknowledged) >= 10, 15, "acknowledged kill-switch writes", seen=lambda: acknowledged)
        old = cluster.kill_master()
        cluster.wait_failover(old)
        # The promoted replica has no replica of its own: WAIT 1 cannot be met, writes are refused.
        wait_until(lambda: any("not confirmed by 1 replica(s) within 300 ms" in r.get("message", "")
                               for r in refusals), 20, "a 503 for an unconfirmed write",
                   seen=lambda: refusals[-2:])
    finally:
        stop.set()
        thread.join(10)

    refusal = next(r for r in refusals if "not confirmed" in r.get("message", ""))
    assert refusal["error_code"] == "UNAVAILABLE"
    assert refusal["details"]["committed"] is True, refusal
    # A retry of a write already on the master (the script answers `unchanged`) is not reported
    # done while no replica holds it.
    with cluster.master() as r:
        current = r.execute("HGET", PREFIX + "risk", "kill_switch") == "1"
    status, _, data = gw.http("POST", "/v1/risk/kill-switch", admin("retry"),
                              json.dumps({"enabled": current}).encode(), timeout=5)
    answer = json.loads(data)
    assert status == 503 and answer["details"]["committed"] is True, (status, answer)
    assert answer["details"]["status"] == "unchanged", answer
    with cluster.master() as r:
        risk_events = [json.loads(fields["event"]) for _, fields in r.xrange(stream_key("risk"))]
    changed_by = {e.get("by") for e in risk_events if e.get("action", "").startswith("KILL_SWITCH")}
    lost = [s for s in acknowledged if s not in changed_by]
    assert not lost, f"acknowledged writes missing on the new master: {lost}"
    gw.metrics_with("bedrock_redis_replica_ack_failures_total")
    text = gw.http("GET", "/metrics")[2].decode()
    failures = [l for l in text.splitlines() if l.startswith("bedrock_redis_replica_ack_failures_total ")]
    assert failures and int(float(failures[0].split()[1])) >= 1, failures
