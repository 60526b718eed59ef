"""Process and client helpers for the black-box integration tests.

Everything here talks to the real binary (`BEDROCK_BIN`, default `.build/debug/bedrock`) and a
real `redis-server`, only over loopback. Tests wait for what they can observe (a frame, a close,
a `/metrics` line, Redis state) with `wait_until`/`poll` up to a deadline, never a fixed sleep.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal as sig_mod
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from resp import Redis, wait_for_redis

REPO = Path(__file__).resolve().parents[2]
BEDROCK_BIN = Path(os.environ.get("BEDROCK_BIN", REPO / ".build" / "debug" / "bedrock"))
JWT_SECRET = "bedrock-integration-secret-0123456789abc"  # 40 bytes
SUBPROTOCOL = "bedrock.v1"
PREFIX = "bedrock:"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream_key(topic: str) -> str:
    return f"{PREFIX}stream:{topic}"


def tail(path: Path, n: int = 60) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


def deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def write_wave_csv(path: Path, bars: int, t0: int = 1_600_000_000) -> Path:
    """A market-data file (SPEC §9) of `bars` hourly bars on two sine waves: trends and pullbacks
    every strategy trades, the same on every run."""
    import math
    with open(path, "w") as f:
        f.write("timestamp,open,high,low,close,volume\n")
        prev = 100.0
        for i in range(bars):
            c = 100 + 10 * math.sin(i / 37.0) + 3 * math.sin(i / 5.0)
            f.write(f"{t0 + 3600 * i},{prev:.4f},{max(prev, c) + 0.5:.4f},{min(prev, c) - 0.5:.4f},{c:.4f},1\n")
            prev = c
    return path


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict, secret: str = JWT_SECRET, alg: str = "HS256") -> str:
    """Signs a token in Python, for the negative cases (wrong key, alg none, ...)."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    if alg == "none":
        return f"{header}.{payload}."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    sig = hmac.new(secret.encode(), signing_input, digest).digest()
    return f"{header}.{payload}.{b64url(sig)}"


# ---------------------------------------------------------------------------------------------
# waiting for something observable


def poll(check: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Calls `check` every `interval` s until it returns a truthy value or `timeout` s have
    passed; returns its last value (falsy when the time ran out). Exceptions propagate."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(min(interval, max(deadline - time.monotonic(), 0)))


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05,
               seen: Callable[[], Any] | None = None) -> Any:
    """`poll(check, ...)`'s truthy value; fails after `timeout` s naming `what` was awaited and
    what was last seen (`check`'s last value, or `seen()` when given)."""
    value = poll(check, timeout, interval)
    if value:
        return value
    last = seen() if seen is not None else value
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {last!r}")


# ---------------------------------------------------------------------------------------------
# redis-server



def stop_process(proc: subprocess.Popen, sig: int = sig_mod.SIGTERM, timeout: float = 10.0) -> bool:
    """Sends `sig` to a running `proc` and waits `timeout` s for it to exit; SIGKILLs it if it
    does not. True when it exited on its own (or had already)."""
    if proc.poll() is not None:
        return True
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        return False

class RedisServer:
    """A real redis-server on a free TCP port in a temp dir, no persistence."""

    def __init__(self, workdir: Path):
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server not on PATH (apt-get install redis-server)"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no",
             "--logfile", str(self.log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_redis(port=self.port)

    def stop(self, sig: int = sig_mod.SIGTERM) -> None:
        if self.proc:
            stop_process(self.proc, sig)
        self.proc = None

    def client(self) -> Redis:
        return Redis(port=self.port)


# ---------------------------------------------------------------------------------------------
# WebSocket client that understands batched frames


class WS:
    """A `bedrock.v1` client: every text frame may hold several JSON objects separated by `\\n`."""

    def __init__(self, conn):
        self.conn = conn
        self.pending: collections.deque[dict] = collections.deque()
        self.text_frames = 0
        self.objects = 0
        self.seen: list[dict] = []  # everything received, in order

    @property
    def subprotocol(self):
        return self.conn.subprotocol

    def send(self, obj: Any) -> None:
        self.conn.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj))

    def _read_frame(self, timeout: float) -> None:
        msg = self.conn.recv(timeout=max(timeout, 0.001))
        if isinstance(msg, bytes):
            msg = msg.decode()
        self.text_frames += 1
        for line in msg.split("\n"):
            if line.strip():
                obj = json.loads(line)
                self.pending.append(obj)
                self.objects += 1
                self.seen.append(obj)

    def recv(self, timeout: float = 5.0) -> dict:
        """The next JSON object (raises TimeoutError, or ConnectionClosed when the socket closes)."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            self._read_frame(deadline - time.monotonic())
        return self.pending.popleft()

    def frames(self, timeout: float = 5.0) -> Iterator[dict]:
        """Yields objects until `timeout` elapses with none arriving."""
        while True:
            try:
                yield self.recv(timeout)
            except TimeoutError:
                return

    def expect(self, match: str | Callable[[dict], bool], timeout: float = 5.0,
               skip: Callable[[dict], bool] | None = None) -> dict:
        """Reads until an object matches (a `type` name or a predicate); server pings are skipped.
        Fails if a non-matching object that `skip` does not accept arrives first."""
        pred = (lambda f: f.get("type") == match) if isinstance(match, str) else match
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no frame matching {match!r} within {timeout}s; seen {self.seen[-5:]}")
            f = self.recv(remaining)
            if pred(f):
                return f
            if f.get("type") == "ping":
                continue
            if skip is None or not skip(f):
                raise AssertionError(f"unexpected frame while waiting for {match!r}: {f}")

    def expect_close(self, timeout: float = 10.0) -> tuple[int | None, list[dict]]:
        """Reads until the server closes; returns (close code, objects received meanwhile)."""
        got: list[dict] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"socket still open after {timeout}s; got {got[-5:]}")
            try:
                got.append(self.recv(remaining))
            except ConnectionClosed as e:
                return (e.rcvd.code if e.rcvd is not None else None), got

    def roundtrip_ping(self, timeout: float = 5.0) -> None:
        """Sends a ping and waits for the pong (other frames are tolerated)."""
        self.send({"type": "ping"})
        self.expect("pong", timeout, skip=lambda f: True)

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
# the gateway process


class Gateway:
    def __init__(self, root: Path, config: dict, redis_url: str, tls: tuple[Path, Path] | None,
                 extra_args: list[str], env: dict[str, str] | None):
        self.root = root
        self.port = config["server"]["port"]
        self.data_dir = Path(config["data_dir"])
        self.config = config
        self.redis_url = redis_url
        self.tls = tls
        self.cafile = tls[0] if tls else None
        self.scheme = "https" if tls else "http"
        self.ws_scheme = "wss" if tls else "ws"
        self.config_path = root / "config" / "bedrock.json"
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(config, indent=2))
        self.log = root / "gateway.log"
        self.extra_args = extra_args
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._tokens: dict[tuple, str] = {}

    # -- process ------------------------------------------------------------------

    def command(self) -> list[str]:
        return [str(BEDROCK_BIN), "serve", "--config", str(self.config_path), "--port", str(self.port),
                "--redis", self.redis_url, "--data-dir", str(self.data_dir), *self.extra_args]

    def start(self, wait: bool = True) -> None:
        assert BEDROCK_BIN.exists(), f"{BEDROCK_BIN} missing: run `swift build` first"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
        env.update(self.env)
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        if wait:
            self.wait_healthy()

    def wait_healthy(self, timeout: float = 30.0) -> None:
        def health() -> int | OSError:
            if self.proc.poll() is not None:
                raise AssertionError(f"bedrock serve exited with {self.proc.returncode} before /health "
                                     f"answered:\n{tail(self.log)}")
            try:
                return self.http("GET", "/health", timeout=1.0)[0]
            except OSError as e:
                return e

        wait_until(lambda: health() == 200, timeout, "/health to answer 200",
                   seen=lambda: f"{health()}\n{tail(self.log)}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, sig: int = sig_mod.SIGTERM, timeout: float = 15.0) -> int | None:
        """Stops the gateway; returns its exit code (None if it had to be killed)."""
        if self.proc is None:
            return self.returncode
        exited = stop_process(self.proc, sig, timeout)
        self.returncode = self.proc.returncode if exited else None
        self.proc = None
        self.logf.close()
        return self.returncode

    def log_text(self) -> str:
        return tail(self.log, 200)

    # -- HTTP ---------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=str(self.cafile))
        return ctx

    def http(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
             timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
        """One raw request (the path is sent exactly as given). Header names come back lowercased."""
        if self.tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.ssl_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, hdrs, data
        finally:
            conn.close()

    def metrics_with(self, line: str, timeout: float = 10.0) -> str:
        """The `/metrics` text once it contains `line` (the trading and job totals are refreshed
        off the event loop every ~2 s); fails after `timeout` with the metric lines it saw."""
        def text() -> str:
            return self.http("GET", "/metrics")[2].decode()

        def text_with_line() -> str:
            t = text()
            return t if line in t else ""

        return wait_until(text_with_line, timeout, f"{line!r} in /metrics", interval=0.2,
                          seen=lambda: [l for l in text().splitlines() if l.startswith("bedrock_")])

    def get_json(self, path: str, headers: dict | None = None) -> tuple[int, dict[str, str], Any]:
        status, hdrs, body = self.http("GET", path, headers)
        return status, hdrs, json.loads(body) if body else None

    # -- tokens ---------------------------------------------------------------------

    def token(self, role: str = "TRADER", sub: str = "alice", ttl: int | None = None) -> str:
        """A token from `bedrock token` with the same config and data dir as the server."""
        key = (role, sub, ttl)
        if ttl is None and key in self._tokens:
            return self._tokens[key]
        cmd = [str(BEDROCK_BIN), "token", "--config", str(self.config_path), "--data-dir",
               str(self.data_dir), "--sub", sub, "--role", role]
        if ttl is not None:
            cmd += ["--ttl", str(ttl)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
        r = subprocess.run(cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, f"bedrock token failed ({r.returncode}): {r.stderr.strip()}"
        lines = [l.strip() for l in r.stdout.splitlines() if l.strip()]
        assert lines, "bedrock token printed nothing"
        tok = lines[-1]
        assert tok.count(".") == 2, f"bedrock token printed {tok!r}, not a JWT"
        if ttl is None:
            self._tokens[key] = tok
        return tok

    # -- Redis ----------------------------------------------------------------------

    def redis(self) -> Redis:
        if self.redis_url == "embedded":
            return Redis(unix_path=str(self.data_dir / "redis.sock"))
        hostport = self.redis_url.split("://", 1)[1].split("/", 1)[0]
        host, port = hostport.rsplit(":", 1)
        return Redis(host=host, port=int(port))

    def xadd(self, topic: str, event: dict) -> str:
        with self.redis() as r:
            return r.xadd(stream_key(topic), json.dumps(event, separators=(",", ":")))

    # -- WebSocket ------------------------------------------------------------------

    def ws_url(self, token: str | None = None, path: str = "/ws") -> str:
        url = f"{self.ws_scheme}://127.0.0.1:{self.port}{path}"
        return f"{url}?token={token}" if token else url

    def connect(self, token: str | None = None, *, header_token: str | None = None,
                subprotocols=(SUBPROTOCOL,), max_queue=16, **kw) -> WS:
        """Opens a socket (token in the query, or in an Authorization header, or none)."""
        headers = {"Authorization": f"Bearer {header_token}"} if header_token else None
        conn = ws_connect(self.ws_url(token), subprotocols=list(subprotocols) if subprotocols else None,
                          additional_headers=headers, ssl=self.ssl_context(), compression=None,
                          proxy=None, open_timeout=5, close_timeout=3, ping_interval=None,
                          max_size=None, max_queue=max_queue, **kw)
        return WS(conn)

    def session(self, role: str = "TRADER", sub: str = "alice", **kw) -> tuple[WS, dict]:
        """Connects with a query token and returns (socket, welcome frame)."""
        ws = self.connect(self.token(role, sub), **kw)
        welcome = ws.expect("welcome")
        return ws, welcome

    def subscribe(self, ws: WS, topic: str, since: str | None = None, id: int = 1) -> dict:
        msg: dict = {"type": "subscribe", "id": id, "topic": topic}
        if since is not None:
            msg["since"] = since
        ws.send(msg)
        return ws.expect(lambda f: f.get("type") in ("subscribed", "error") and f.get("id") == id)


__all__ = ["REPO", "BEDROCK_BIN", "write_wave_csv", "JWT_SECRET", "SUBPROTOCOL", "RFC3339", "free_port", "stream_key",
           "deep_merge", "make_jwt", "RedisServer", "WS", "Gateway", "ConnectionClosed",
           "InvalidStatus", "tail", "poll", "wait_until"]
