"""What the LLM benchmarks (loadtest/llm-bar-latency.py, loadtest/llm-news-burst.py) share: a fresh
redis-server, a gateway with or without an LLM provider (the scriptable fake OpenAI server of
tests/integration/fakes/llm.py, in this process), tokens, REST calls, RSS and percentiles."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from fakes.llm import FakeLLM  # noqa: E402
from helpers import free_port  # noqa: E402
from resp import Redis  # noqa: E402

class TimedFakeLLM(FakeLLM):
    """The fake, recording the monotonic time each request arrived (`record["at"]`)."""

    def _next_step(self, record, valid):
        record["at"] = time.monotonic()
        return super()._next_step(record, valid)


class Stack:
    """A redis-server and one gateway in `work`; `llm` is the fake to point `llm.*` at, or None for
    no provider. `extra` is merged into the gateway's configuration."""

    def __init__(self, binary: str, work: Path, llm: FakeLLM | None, extra: dict | None = None):
        self.binary, self.work = binary, work
        work.mkdir(parents=True, exist_ok=True)
        self.rport = free_port()
        self.redis = subprocess.Popen(["redis-server", "--port", str(self.rport), "--bind", "127.0.0.1", "--dir",
                                       str(work), "--save", "", "--appendonly", "no"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.rport}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
        data = work / "data"
        data.mkdir(exist_ok=True)
        config = {"mode": "dev", "data_dir": str(data), "jwt": {"secret": "x" * 40},
                  "server": {"public_dir": str(REPO / "public")}, "redis": {"url": self.url},
                  "engine": {"discover_interval_ms": 100}, **(extra or {})}
        if llm is not None:
            config["llm"] = {"provider": "openai", "base_url": llm.base_url, "model": "bench-model",
                             "prompts_dir": str(REPO / "config" / "prompts"), **config.get("llm", {})}
        self.config = work / "gateway.json"
        self.config.write_text(json.dumps(config))
        self.port = free_port()
        self.gateway: subprocess.Popen | None = None
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis(port=self.rport).execute("PING")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.gateway = subprocess.Popen([self.binary, "serve", "--config", str(self.config), "--port", str(self.port)],
                                        cwd=self.work, env=self.env, stdout=open(self.work / "gateway.log", "w"),
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    break
            except OSError:
                if self.gateway.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the gateway did not start: see {self.work / 'gateway.log'}")
                time.sleep(0.1)
        self.r = Redis(port=self.rport)

    def token(self, role: str) -> str:
        out = subprocess.run([self.binary, "token", "--config", str(self.config), "--sub", "bench", "--role", role],
                             check=True, capture_output=True, text=True, env=self.env, cwd=self.work).stdout
        return out.split()[-1]

    def connection(self) -> http.client.HTTPConnection:
        """A keep-alive connection to the gateway."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def metrics(self, prefix: str) -> list[str]:
        """The `/metrics` lines starting with `prefix`."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as resp:
            return [line for line in resp.read().decode().splitlines() if line.startswith(prefix)]

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.terminate()
            try:
                self.gateway.wait(15)
            except subprocess.TimeoutExpired:
                self.gateway.kill()
        self.redis.terminate()
        self.redis.wait(5)


def call(conn: http.client.HTTPConnection, method: str, path: str, token: str, body: dict | None = None):
    """One request on a keep-alive connection: (status, parsed body)."""
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    return resp.status, (json.loads(raw) if raw else None)


def rss_kib(pid: int) -> int:
    """Resident set size of `pid` in KiB (/proc/<pid>/status VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def machine() -> str:
    """Host name, architecture and core count, for the figures' record."""
    return f"{os.uname().nodename} {os.uname().machine}, {os.cpu_count()} cores"


def percentiles(values: list[float], points=(50, 90, 99)) -> dict[str, float]:
    """Nearest-rank percentiles plus the count and the maximum."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    out = {f"p{p}": ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))] for p in points}
    out["max"] = ordered[-1]
    out["n"] = len(ordered)
    return out
