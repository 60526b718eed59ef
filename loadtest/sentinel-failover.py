#!/usr/bin/env python3
"""Redis Sentinel failover under load (SPEC §13; docs/ops/FAILOVER.md): how long after the master
dies events flow again to sockets opened before, and how many acknowledged writes are lost with
`redis.min_replicas_to_ack` 0 and 1.

Each run: a fresh Sentinel group (tests/integration/sentinel.py: master, replica, three
Sentinels, `down-after-milliseconds` = `--down-after-ms`), a gateway on `redis-sentinel://`,
`--sockets` WebSocket clients subscribed to `signals`, a publisher XADDing `--rate` events/s to
whichever server the Sentinels name (no WAIT: what a producer gets from asynchronous
replication), and `--writers` HTTP clients toggling the kill switch (a ledger write; each with its
own token subject, so a write is found again by who made it). After `--warm` s the master is
killed with SIGKILL; once the Sentinels promoted the replica, the old master's port is started
again, empty, and the Sentinels make it a replica of the new master (so WAIT can be met again).
With `--replica-lag S` the replica is made to lag for the S seconds before the kill: it is frozen
(SIGSTOP) and 16 MB of ballast (`SET bench:ballast:<n>`, outside the prefix) is written to the
master first, more than the loopback socket buffers hold, so every write the master acknowledges
in those seconds waits in its replica output buffer and dies with it (SIGCONT right after the
kill): the lag a loaded network or replica can have at that moment.

Printed per run (seconds from the SIGKILL):
- failover: the Sentinels name the promoted replica;
- flowing: the slowest socket's first event written to the new master (events flowing again);
- ready: `/ready` answers 200 again;
- write ok: the first ledger write sent after the kill that is answered 200;
- stream lost: events the old master acknowledged (XADD answered) that the new master lacks;
- socket missing / dup: events of the new master's stream a socket never got / got twice;
- ledger lost: ledger writes answered 200 whose change the new master lacks (must be 0 with
  `min_replicas_to_ack` 1); refused 503: writes answered "not confirmed by N replica(s)".

    loadtest/sentinel-failover.py [--bin .build/release/bedrock] [--runs 3] [--acks 0 1]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from websockets.sync.client import connect as ws_connect

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import free_port, make_jwt, stream_key  # noqa: E402
from resp import Redis, RedisError  # noqa: E402
from sentinel import SentinelCluster  # noqa: E402

SECRET = "sentinel-failover-benchmark-secret-0123456789"
warnings.filterwarnings("ignore", category=DeprecationWarning)  # websockets' plain connect(), as in the tests


def token(sub: str, role: str) -> str:
    return make_jwt({"sub": sub, "role": role, "exp": int(time.time()) + 3600}, SECRET)


def http(port: int, method: str, path: str, sub: str = "bench", role: str = "ADMIN", body: dict | None = None):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {token(sub, role)}", "Content-Type": "application/json"}
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


class Socket(threading.Thread):
    """One subscribed client: records (event id, arrival time) until stopped."""

    def __init__(self, port: int, n: int):
        super().__init__(daemon=True)
        self.ws = ws_connect(f"ws://127.0.0.1:{port}/ws?token={token(f'viewer{n}', 'VIEWER')}",
                             subprotocols=["bedrock.v1"], compression=None, ping_interval=None, max_size=None)
        self.got: list[tuple[str, float]] = []
        self.errors: list[dict] = []
        self.closed = False
        self.stop_flag = threading.Event()
        self.ws.send(json.dumps({"type": "subscribe", "id": 1, "topic": "signals"}))

    def run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                message = self.ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - a closed socket ends the run; reported as closed
                self.closed = True
                return
            now = time.monotonic()
            for line in message.split("\n"):
                frame = json.loads(line)
                if frame.get("type") == "event":
                    self.got.append((frame["id"], now))
                elif frame.get("type") == "error":
                    self.errors.append(frame)
        self.ws.close()


class Publisher(threading.Thread):
    """XADDs to the master the Sentinels name, `rate` per second; records (port, id) per write."""

    def __init__(self, cluster: SentinelCluster, rate: float):
        super().__init__(daemon=True)
        self.cluster, self.period = cluster, 1 / rate
        self.written: list[tuple[int, str]] = []
        self.stop_flag = threading.Event()

    def run(self) -> None:
        conn, port = None, 0
        while not self.stop_flag.is_set():
            try:
                if conn is None:
                    port, conn = self.cluster.connect_to_master()
                entry = conn.xadd(stream_key("signals"), json.dumps({"event_type": "signal.created", "n": len(self.written)}))
                self.written.append((port, entry))
            except (OSError, RedisError, AssertionError, TypeError):
                if conn:
                    conn.close()
                conn = None
            time.sleep(self.period)


class Writer(threading.Thread):
    """Toggles the kill switch back to back, each call with its own subject; records the answers."""

    def __init__(self, port: int, n: int):
        super().__init__(daemon=True)
        self.port, self.n = port, n
        self.answers: list[tuple[str, float, int, dict]] = []  # (subject, sent at, status, body)
        self.stop_flag = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop_flag.is_set():
            i += 1
            sub, sent = f"w{self.n}-{i}", time.monotonic()
            try:
                status, body = http(self.port, "POST", "/v1/risk/kill-switch", sub, body={"enabled": i % 2 == 1})
            except OSError:
                status, body = 0, {}
            self.answers.append((sub, sent, status, body or {}))
            time.sleep(0.01)


def wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(what)


def one_run(a, acks: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="sentinel-failover-"))
    cluster = SentinelCluster(work, down_after_ms=a.down_after_ms).start()
    gport = free_port()
    data = work / "data"
    data.mkdir()
    cfg = work / "gw.json"
    cfg.write_text(json.dumps({
        "mode": "dev", "data_dir": str(data), "jwt": {"secret": SECRET},
        "server": {"public_dir": str(REPO / "public"), "port": gport},
        "redis": {"url": cluster.url, "min_replicas_to_ack": acks, "replica_ack_timeout_ms": a.ack_timeout_ms}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    gateway = subprocess.Popen([a.bin, "serve", "--config", str(cfg)], cwd=work, env=env,
                               stdout=open(work / "gw.log", "w"), stderr=subprocess.STDOUT)
    threads: list = []
    try:
        wait(lambda: _ready(gport), 30, "the gateway to be ready")
        sockets = [Socket(gport, n) for n in range(a.sockets)]
        publisher = Publisher(cluster, a.rate)
        writers = [Writer(gport, n) for n in range(a.writers)]
        threads = [*sockets, publisher, *writers]
        for t in threads:
            t.start()
        time.sleep(a.warm)
        replica = cluster.servers[cluster.initial_replica]
        if a.replica_lag:
            replica.send_signal(signal.SIGSTOP)
            with Redis(port=cluster.initial_master) as master:
                for n in range(16):
                    master.execute("SET", f"bench:ballast:{n}", "x" * (1 << 20))
            time.sleep(a.replica_lag)
        old = cluster.kill_master()
        killed = time.monotonic()
        if a.replica_lag:
            replica.send_signal(signal.SIGCONT)
        new = cluster.wait_failover(old, timeout=60)
        failover = time.monotonic() - killed
        cluster.restart(old)

        def flowing():
            on_new = {i for p, i in publisher.written if p == new}
            firsts = [next((t for i, t in s.got if i in on_new), None) for s in sockets]
            return None if None in firsts else max(firsts) - killed
        flow = wait(flowing, 60, "events on every socket from the new master")
        ready = wait(lambda: _ready(gport) and time.monotonic() - killed, 60, "/ready 200")
        write_ok = wait(lambda: min((sent - killed for w in writers for _, sent, st, _ in list(w.answers)
                                     if st == 200 and sent > killed), default=None), 60, "a ledger write answered 200")
        time.sleep(a.after)
        for t in [publisher, *writers]:
            t.stop_flag.set()
            t.join(10)
        with Redis(port=new) as r:
            stream = [i for i, _ in r.xrange(stream_key("signals"))]
        try:  # the last events are still on their way to the sockets
            wait(lambda: all(s.closed or set(stream) <= {i for i, _ in s.got} for s in sockets), 10, "")
        except TimeoutError:
            pass  # counted as missing below
    finally:
        for t in threads:
            t.stop_flag.set()
        for t in threads:
            t.join(10)

    with Redis(port=new) as r:
        risk = [json.loads(f["event"]) for _, f in r.xrange(stream_key("risk"))]
    kept = set(stream)
    stream_lost = sum(1 for p, i in publisher.written if p == old and i not in kept)
    missing = sum(len(kept - {i for i, _ in s.got if i in kept}) for s in sockets if not s.closed)
    dups = sum(len(s.got) - len({i for i, _ in s.got}) for s in sockets)
    by = {e.get("by") for e in risk if str(e.get("action", "")).startswith("KILL_SWITCH")}
    acked = [sub for w in writers for sub, _, st, body in w.answers if st == 200 and body.get("kill_switch_updated_by") == sub]
    refused = sum(1 for w in writers for _, _, st, body in w.answers
                  if st == 503 and "not confirmed" in str(body.get("message", "")))
    gateway.send_signal(signal.SIGTERM)
    gateway.wait(20)
    cluster.stop()
    return {"acks": acks, "failover_s": failover, "flowing_s": flow, "ready_s": ready, "write_ok_s": write_ok,
            "stream_written": len(publisher.written), "stream_lost": stream_lost, "socket_missing": missing,
            "socket_dup": dups, "sockets_closed": sum(s.closed for s in sockets),
            "error_frames": sum(len(s.errors) for s in sockets), "ledger_acked": len(acked),
            "ledger_lost": sum(1 for s in acked if s not in by), "refused_503": refused}


def _ready(port: int) -> bool:
    try:
        return http(port, "GET", "/ready")[0] == 200
    except OSError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=str(REPO / ".build" / "release" / "bedrock"))
    ap.add_argument("--runs", type=int, default=3, help="runs per --acks value")
    ap.add_argument("--acks", type=int, nargs="+", default=[0, 1], help="redis.min_replicas_to_ack values")
    ap.add_argument("--ack-timeout-ms", type=int, default=500, help="redis.replica_ack_timeout_ms")
    ap.add_argument("--down-after-ms", type=int, default=1000, help="Sentinel down-after-milliseconds")
    ap.add_argument("--replica-lag", type=float, default=0.5,
                    help="seconds the replica lags before the kill (keep below --down-after-ms)")
    ap.add_argument("--sockets", type=int, default=20)
    ap.add_argument("--rate", type=float, default=200, help="events/s published")
    ap.add_argument("--writers", type=int, default=4, help="HTTP clients writing to the ledger")
    ap.add_argument("--warm", type=float, default=3, help="seconds of load before the kill")
    ap.add_argument("--after", type=float, default=3, help="seconds of load after writes are answered again")
    ap.add_argument("--json", help="write the runs as JSON here")
    a = ap.parse_args()
    a.bin = str(Path(a.bin).resolve())
    runs = []
    cols = ["acks", "failover_s", "flowing_s", "ready_s", "write_ok_s", "stream_written", "stream_lost",
            "socket_missing", "socket_dup", "sockets_closed", "error_frames", "ledger_acked", "ledger_lost", "refused_503"]
    print(" ".join(f"{c:>14}" for c in cols))
    for acks in a.acks:
        for _ in range(a.runs):
            r = one_run(a, acks)
            runs.append(r)
            print(" ".join(f"{r[c]:>14.2f}" if isinstance(r[c], float) else f"{r[c]:>14}" for c in cols), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(runs, indent=2))
    bad = [r for r in runs if r["acks"] >= 1 and r["ledger_lost"]] + \
          [r for r in runs if r["socket_missing"] or r["socket_dup"] or r["sockets_closed"]]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
