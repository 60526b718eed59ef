"""A Redis Sentinel group for the failover tests: one master, one replica and three
`redis-sentinel` processes, each on a free port in its own temp dir, no persistence.

`SentinelCluster.start()` returns once the replica is in sync and every Sentinel knows the master,
the replica and the two other Sentinels (so a failover can start as soon as the master dies).
The Sentinels call the master down after `down_after_ms` (1 s by default) and fail over with a
quorum of 2. `kill_master()` kills the current master with SIGKILL (no shutdown, no last sync);
`wait_failover(old_port)` waits until every Sentinel names a new master whose ROLE is master;
`restart(port)` brings a killed server back (empty), for the Sentinels to make it a replica.
`pytest` fixture: `sentinel_cluster` (stopped at teardown, every process killed).
"""

from __future__ import annotations

import shutil
import signal as sig_mod
import subprocess
import time
from pathlib import Path

import pytest

from helpers import free_port, poll, wait_until
from resp import Redis, RedisError, wait_for_redis

MASTER_NAME = "bedrock"


class SentinelCluster:
    def __init__(self, workdir: Path, down_after_ms: int = 1000):
        self.dir = workdir
        self.down_after_ms = down_after_ms
        self.servers: dict[int, subprocess.Popen] = {}  # port -> redis-server
        self.sentinels: dict[int, subprocess.Popen] = {}  # port -> redis-sentinel
        self.initial_master = free_port()
        self.initial_replica = free_port()

    # -- processes -----------------------------------------------------------------

    def _server(self, port: int, *extra: str) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server not on PATH (apt-get install redis-server)"
        d = self.dir / f"redis-{port}"
        d.mkdir(exist_ok=True)
        self.servers[port] = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(d), "--logfile", str(d / "redis.log"), *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_redis(port=port)

    def _sentinel(self, port: int) -> None:
        exe = shutil.which("redis-sentinel")
        assert exe, "redis-sentinel not on PATH (apt-get install redis-sentinel)"
        d = self.dir / f"sentinel-{port}"
        d.mkdir()
        conf = d / "sentinel.conf"  # Sentinel rewrites its config file: one each, writable
        conf.write_text("\n".join([
            f"port {port}", "bind 127.0.0.1", f"dir {d}", f"logfile {d / 'sentinel.log'}",
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.initial_master} 2",
            f"sentinel down-after-milliseconds {MASTER_NAME} {self.down_after_ms}",
            f"sentinel failover-timeout {MASTER_NAME} 10000",
            f"sentinel parallel-syncs {MASTER_NAME} 1", ""]))
        self.sentinels[port] = subprocess.Popen(
            [exe, str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for_redis(port=port)

    def start(self) -> "SentinelCluster":
        self._server(self.initial_master)
        self._server(self.initial_replica, "--replicaof", "127.0.0.1", str(self.initial_master))
        wait_until(lambda: "master_link_status:up" in self.info(self.initial_replica), 10,
                   "the replica to sync with the master")
        for _ in range(3):
            self._sentinel(free_port())
        wait_until(self._sentinels_ready, 20, "every Sentinel to know the master, the replica and each other")
        return self

    def _sentinels_ready(self) -> bool:
        for port in self.sentinels:
            try:
                with Redis(port=port, timeout=1) as r:
                    fields = r.execute("SENTINEL", "MASTER", MASTER_NAME)
            except (OSError, RedisError):
                return False
            info = dict(zip(fields[::2], fields[1::2]))
            if info.get("num-slaves") != "1" or info.get("num-other-sentinels") != "2":
                return False
        return True

    def stop(self) -> None:
        for proc in [*self.sentinels.values(), *self.servers.values()]:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)

    # -- views ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinels)
        return f"redis-sentinel://{hosts}/{MASTER_NAME}"

    def info(self, port: int) -> str:
        try:
            with Redis(port=port, timeout=1) as r:
                return r.execute("INFO", "replication")
        except (OSError, RedisError):
            return ""

    def master_port(self) -> int:
        """The port every live Sentinel names as master (asserts they agree)."""
        named = set()
        for port, proc in self.sentinels.items():
            if proc.poll() is None:
                with Redis(port=port, timeout=1) as r:
                    named.add(int(r.execute("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)[1]))
        assert len(named) == 1, f"the Sentinels disagree about the master: {named}"
        return named.pop()

    def master(self) -> Redis:
        return Redis(port=self.master_port())

    def connect_to_master(self) -> tuple[int, Redis]:
        """(port, connection) of the server the Sentinels name, once its `ROLE` says master;
        raises RedisError (or OSError / AssertionError mid-failover) otherwise."""
        port = self.master_port()
        conn = Redis(port=port, timeout=1)
        if conn.execute("ROLE")[0] != "master":
            conn.close()
            raise RedisError("not the master yet")
        return port, conn

    # -- failover ------------------------------------------------------------------

    def kill_master(self) -> int:
        """SIGKILL the current master; returns its port."""
        port = self.master_port()
        proc = self.servers[port]
        proc.send_signal(sig_mod.SIGKILL)
        proc.wait(5)
        return port

    def restart(self, port: int) -> None:
        """Starts a server again on `port` (empty: no persistence); the Sentinels turn it into a
        replica of the current master when they see it."""
        self._server(port)

    def wait_failover(self, old_port: int, timeout: float = 20) -> int:
        """Waits until the Sentinels agree on a new master that answers ROLE master; its port."""
        def promoted():
            try:
                port = self.master_port()
            except (OSError, RedisError, AssertionError):
                return None
            return port if port != old_port and "role:master" in self.info(port) else None
        port = poll(promoted, timeout, interval=0.05)
        assert port, f"no failover within {timeout}s:\n" + "\n".join(
            (self.dir / f"sentinel-{p}" / "sentinel.log").read_text()[-1500:] for p in self.sentinels)
        return port


@pytest.fixture
def sentinel_cluster(tmp_path_factory):
    cluster = SentinelCluster(tmp_path_factory.mktemp("sentinel"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()
