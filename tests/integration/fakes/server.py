"""Plumbing shared by the fake exchanges: one asyncio loop in a daemon thread serving plain HTTP
(REST) and WebSocket on the same loopback port, with a thread-safe way for tests to act on it.

Every REST answer is built by the subclass's `rest(path, query)`; every WebSocket connection is
handed to `websocket(connection, path, query)`. HTTP responses close the connection (as HTTP/1.1
`Connection: close`), which every client handles.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import socket
import threading
from concurrent.futures import Future
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .clock import ManualClock


CONTROL_PREFIX = "/__control/"


class HttpAnswer:
    """A REST answer: status, JSON body (already serialised or an object) and extra headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        self.status = status
        self.body = body if isinstance(body, (str, bytes)) else json.dumps(body, separators=(",", ":"))
        self.headers = headers or {}


class FakeExchangeServer:
    """Base of a fake exchange on 127.0.0.1:<free port>; use as a context manager or start/stop."""

    def __init__(self, clock: ManualClock, ping_interval_s: float | None = None, ping_timeout_s: float | None = None):
        self.clock = clock
        self.lock = threading.RLock()
        self.port = 0
        self._ping_interval = ping_interval_s
        self._ping_timeout = ping_timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None
        self._stopped: asyncio.Event | None = None
        self.connections: set[ServerConnection] = set()
        self._refuse_until_ms: int | None = None
        self._refuse_forever = False
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.ws_connects = 0
        # WebSocket handshakes answered 503 while refusing (drop_connections / refuse_connections).
        self.ws_refused = 0
        # `GET /__control/<method>?arg=value` calls a control method (see __main__.py); off
        # unless asked, so an in-process fake serves exactly the exchange's routes.
        self.control_routes = False
        # An `ssl.SSLContext` to serve https:// and wss:// instead (set before `start`).
        self.ssl_context = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def http_url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.ssl_context else 'ws'}://127.0.0.1:{self.port}"

    def start(self) -> "FakeExchangeServer":
        ready: Future = Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), name=type(self).__name__, daemon=True)
        self._thread.start()
        ready.result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)
        self._loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self, ready: Future) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self._main(ready))
        loop.close()

    async def _main(self, ready: Future) -> None:
        self._stopped = asyncio.Event()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        async with serve(self._handle, sock=sock, process_request=self._process_request,
                         ping_interval=self._ping_interval, ping_timeout=self._ping_timeout,
                         server_header=None, max_size=2**20, close_timeout=2, ssl=self.ssl_context) as server:
            self._server = server
            ready.set_result(True)
            await self._stopped.wait()
            # HTTP clients keep idle keep-alive sockets: cut everything so closing is immediate.
            for conn in list(getattr(server, "all_connections", server.connections)) + list(self.connections):
                conn.transport.abort()

    # -- thread-safe helpers for the control API ---------------------------------------------

    def call(self, fn: Callable[[], Any]) -> Any:
        """Runs `fn` on the server loop and waits for it (a coroutine function is awaited)."""
        async def run():
            result = fn()
            if asyncio.iscoroutine(result):
                result = await result
            return result
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def broadcast_text(self, messages: list[tuple[ServerConnection, str]]) -> None:
        """Sends each (connection, text) in order, from the loop, and waits until handed over."""
        async def send_all():
            for conn, text in messages:
                try:
                    await conn.send(text)
                except Exception:  # a connection closing meanwhile just misses the message
                    pass
        if messages:
            self.call(send_all)

    def drop_connections(self, refuse_for_ms: int = 0) -> int:
        """Cuts every open WebSocket abruptly (TCP abort, no close frame, as a network failure
        looks) and refuses new WebSocket handshakes (HTTP 503) until the fake clock has moved
        `refuse_for_ms` past now. Returns how many connections were cut."""
        with self.lock:
            if refuse_for_ms > 0:
                self._refuse_until_ms = self.clock.now_ms() + refuse_for_ms
        def cut():
            conns = list(self.connections)
            for conn in conns:
                conn.transport.abort()
            return len(conns)
        return self.call(cut)

    def refuse_connections(self, refuse: bool = True) -> None:
        """Refuses (or again accepts) new WebSocket handshakes until told otherwise."""
        with self.lock:
            self._refuse_forever = refuse
            if not refuse:
                self._refuse_until_ms = None

    def send_raw(self, text: str, repeat: int = 1) -> None:
        """Sends `text` as-is (e.g. malformed JSON) to every open WebSocket; `repeat` > 1 sends it
        repeated that many times in one frame (an oversized message)."""
        self.broadcast_text([(c, text * repeat) for c in list(self.connections)])

    def handshakes(self) -> int:
        """How many WebSocket handshakes were accepted (`ws_connects`)."""
        with self.lock:
            return self.ws_connects

    def close_connections(self, code: int = 1000, reason: str = "") -> None:
        """Closes every open WebSocket with a proper close frame (e.g. the 24 h renewal)."""
        async def close_all():
            await asyncio.gather(*(c.close(code, reason) for c in list(self.connections)), return_exceptions=True)
        self.call(close_all)

    # -- request handling --------------------------------------------------------------------

    def _refusing(self) -> bool:
        with self.lock:
            if self._refuse_forever:
                return True
            if self._refuse_until_ms is not None:
                if self.clock.now_ms() < self._refuse_until_ms:
                    return True
                self._refuse_until_ms = None
            return False

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if self.control_routes and parts.path.startswith(CONTROL_PREFIX):
            # Control calls wait on this loop themselves: run them off it.
            name = parts.path[len(CONTROL_PREFIX):]
            answer = await asyncio.get_running_loop().run_in_executor(None, self._control, name, query)
            return self._response(connection, answer)
        is_upgrade = "websocket" in request.headers.get("Upgrade", "").lower()
        if is_upgrade:
            if self._refusing():
                with self.lock:
                    self.ws_refused += 1
                return self._response(connection, HttpAnswer(503, "Service Unavailable"))
            if not self.accepts_websocket(parts.path, query):
                return self._response(connection, HttpAnswer(404, "Not Found"))
            # Registered before the 101 goes out, so a client that has connected is followed at once.
            with self.lock:
                self.connections.add(connection)
                self.ws_connects += 1
            self.opened(connection, parts.path, query)
            return None
        with self.lock:
            self.requests.append((parts.path, query))
        return self._response(connection, self.rest(parts.path, query))

    def _response(self, connection: ServerConnection, answer: HttpAnswer) -> Response:
        resp = connection.respond(answer.status, "")
        body = answer.body.encode() if isinstance(answer.body, str) else answer.body
        resp.body = body
        headers = Headers()
        for k, v in resp.headers.raw_items():
            if k.lower() not in ("content-type", "content-length", "date"):
                headers[k] = v
        # The exchange's clock (HTTP `Date`, as both exchanges send): the fake's, not the machine's.
        headers["Date"] = email.utils.formatdate(self.clock.now_ms() / 1000, usegmt=True)
        is_json = body[:1] in (b"{", b"[")
        headers["Content-Type"] = "application/json;charset=UTF-8" if is_json else "text/plain; charset=utf-8"
        headers["Content-Length"] = str(len(body))
        for k, v in answer.headers.items():
            headers[k] = v
        resp.headers = headers
        return resp

    async def _handle(self, connection: ServerConnection) -> None:
        parts = urlsplit(connection.request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            await self.websocket(connection, parts.path, query)
        except ConnectionClosed:  # dropped by the peer or by `drop_connections`
            pass
        finally:
            with self.lock:
                self.connections.discard(connection)
                self.forget(connection)

    def _control(self, name: str, query: dict[str, str]) -> HttpAnswer:
        spec = self.CONTROL.get(name)
        if spec is None:
            return HttpAnswer(404, {"error": f"no control method {name!r}", "methods": sorted(self.CONTROL)})
        kwargs: dict[str, Any] = {}
        try:
            for key, value in query.items():
                kind = spec.get(key, spec.get("*"))
                if kind is None:
                    return HttpAnswer(400, {"error": f"{name} takes no argument {key!r}"})
                kwargs[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
            result = getattr(self, name)(**kwargs)
        except (TypeError, ValueError, KeyError) as exc:
            return HttpAnswer(400, {"error": str(exc)})
        return HttpAnswer(200, {"result": result})

    # -- for subclasses ----------------------------------------------------------------------

    # control method -> {argument: type}; "*" types any other keyword argument.
    CONTROL: dict[str, dict[str, type]] = {
        "drop_connections": {"refuse_for_ms": int},
        "refuse_connections": {"refuse": bool},
        "close_connections": {"code": int, "reason": str},
        "send_raw": {"text": str, "repeat": int},
        "handshakes": {},
    }

    def rest(self, path: str, query: dict[str, str]) -> HttpAnswer:
        raise NotImplementedError

    def accepts_websocket(self, path: str, query: dict[str, str]) -> bool:
        raise NotImplementedError

    def opened(self, connection: ServerConnection, path: str, query: dict[str, str]) -> None:
        """Sets a new connection up (subscriptions named in its URL) before the handshake ends."""

    async def websocket(self, connection: ServerConnection, path: str, query: dict[str, str]) -> None:
        """Serves an open connection until it closes."""
        raise NotImplementedError

    def forget(self, connection: ServerConnection) -> None:
        """Drops a closed connection's subscriptions (called under `lock`)."""
