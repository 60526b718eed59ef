"""A tiny Redis client (RESP2 over a TCP or unix socket) for the integration tests.

Enough for XADD/XRANGE/XTRIM/PING and friends; no dependency on redis-py.
"""

from __future__ import annotations

import socket
import time


class RedisError(Exception):
    pass


class Redis:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None,
                 unix_path: str | None = None, timeout: float = 5.0):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(unix_path)
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- protocol ---------------------------------------------------------------

    @staticmethod
    def encode(*args) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, bytes):
                b = a
            else:
                b = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RedisError(f"unexpected reply {line!r}")

    def execute(self, *args):
        self.sock.sendall(self.encode(*args))
        r = self._reply()
        if isinstance(r, RedisError):
            raise r
        return r

    def pipeline(self, commands: list[tuple]) -> list:
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self._reply() for _ in commands]

    # -- helpers ----------------------------------------------------------------

    def ping(self) -> bool:
        return self.execute("PING") == "PONG"

    def xadd(self, stream: str, event_json: str, maxlen: int | None = None) -> str:
        if maxlen is None:
            return self.execute("XADD", stream, "*", "event", event_json)
        return self.execute("XADD", stream, "MAXLEN", "~", maxlen, "*", "event", event_json)

    def xrange(self, stream: str, start: str = "-", end: str = "+") -> list[tuple[str, dict]]:
        out = []
        for entry_id, fields in self.execute("XRANGE", stream, start, end):
            out.append((entry_id, dict(zip(fields[0::2], fields[1::2]))))
        return out


def wait_for_redis(host: str = "127.0.0.1", port: int | None = None,
                   unix_path: str | None = None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with Redis(host, port, unix_path=unix_path, timeout=1.0) as r:
                if r.ping():
                    return
        except (OSError, RedisError) as e:
            last = e
        time.sleep(0.05)
    raise TimeoutError(f"redis did not answer PING within {timeout}s: {last}")
