"""A local webhook receiver for the notification tests and the webhook benchmark: an HTTP/1.1
keep-alive server (one thread per connection) on a free loopback port that checks each POST's
`X-Bedrock-Signature` the way docs/NOTIFICATIONS.md tells receivers to, dedupes on
`X-Bedrock-Event-Id`, and answers a scripted status (default 200).

```python
with WebhookReceiver(secret) as hook:
    hook.script([500])            # the next answer is 500, then 200s again
    ... hook.accepted()           # {event_id: body} of the deliveries it took (2xx, good signature)
```
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

from .threaded_http import QuietHandler, ThreadedHTTPFake


class WebhookReceiver(ThreadedHTTPFake):
    """A receiver on 127.0.0.1:<free port>; `url` is where to point a webhook."""

    def __init__(self, secret: str, path: str = "/hook", record_bodies: bool = True):
        self.secret = secret.encode()
        self.path = path
        self.record_bodies = record_bodies
        self.lock = threading.Lock()
        self._script: list[int] = []
        self.default_status = 200
        self.requests: list[dict] = []       # every POST: event_id, signature_ok, status answered
        self._accepted: dict[str, dict] = {}  # event id -> body, first 2xx with a good signature
        self.duplicates = 0                  # 2xx deliveries of an event id already accepted
        self.count = 0
        self._released = threading.Event()
        self._released.set()
        self.held = 0                        # requests waiting in `hold`
        self.delay = 0.0                     # seconds every answer takes (a slow receiver)
        super().__init__()

    # -- control -------------------------------------------------------------------------

    def script(self, statuses: list[int]) -> None:
        """Answer these statuses to the next POSTs, in order, then `default_status`."""
        with self.lock:
            self._script = list(statuses)

    def hold(self) -> None:
        """Keep every request waiting, unanswered, until `release`; then answer each 503 (its
        sender may be gone by then: such a request never counts as accepted)."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def accepted(self) -> dict[str, dict]:
        with self.lock:
            return dict(self._accepted)

    def seen(self, event_id: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["event_id"] == event_id]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    # -- the server ------------------------------------------------------------------------

    def verify(self, body: bytes, signature: str | None) -> bool:
        """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        return signature is not None and hmac.compare_digest(expected, signature)

    def _answer(self, headers, body: bytes) -> int:
        event_id = headers.get("X-Bedrock-Event-Id")
        ok = self.verify(body, headers.get("X-Bedrock-Signature"))
        with self.lock:
            self.count += 1
            status = self._script.pop(0) if self._script else self.default_status
            if not ok:
                status = 401
            if self.record_bodies:
                self.requests.append({"event_id": event_id, "signature_ok": ok, "status": status,
                                      "timestamp": headers.get("X-Bedrock-Timestamp"),
                                      "content_type": headers.get("Content-Type")})
            if 200 <= status < 300:
                if event_id in self._accepted:
                    self.duplicates += 1
                elif self.record_bodies:
                    self._accepted[event_id] = json.loads(body)
                else:
                    self._accepted[event_id] = {}
        return status

    def handler(self) -> type[QuietHandler]:
        receiver = self

        class Handler(QuietHandler):

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if not receiver._released.is_set():
                    with receiver.lock:
                        receiver.held += 1
                    receiver._released.wait(30)
                    status = 503
                else:
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    status = receiver._answer(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
