"""A loopback HTTP/1.1 server (keep-alive) on a free port, served from daemon threads: the base of the
fakes that receive what the gateway sends out (webhook receivers, the Telegram Bot API stand-in)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, and no access line per request on stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


class ThreadedHTTPFake:
    """Start with `start()` (or `with`), stop with `stop()`; subclasses return their handler class
    from `handler()`."""

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return self._server.server_address[1]

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
