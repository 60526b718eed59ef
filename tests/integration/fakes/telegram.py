"""A local stand-in for the Telegram Bot API's `sendMessage`, written from the Bot API
documentation (core.telegram.org/bots/api: "Making requests", "sendMessage", "Message", "Chat",
"User", "ResponseParameters"):

- `POST|GET {base}/bot<token>/sendMessage`; parameters in the URL query string,
  `application/x-www-form-urlencoded` or `application/json` (all three are documented ways);
  method names are case-insensitive.
- Parameters: `chat_id` (Integer or String, required), `text` (String, 1-4096 characters after
  entity parsing, required), `parse_mode`, `disable_web_page_preview`, `link_preview_options`,
  `disable_notification` … (optional ones are accepted and recorded).
- Answers are JSON objects with `ok`; on success `result` is the sent `Message` (`message_id`,
  `from` (the bot `User`: `id`, `is_bot`, `first_name`, `username`), `date` (Unix time), `chat`
  (`id`, `type`; `title`/`username` for a channel), `text`); on failure `ok: false`,
  `error_code`, `description`, and for flood control `parameters: {"retry_after": N}` with HTTP
  429.
- A wrong token answers 401 `Unauthorized`; a missing chat or text 400 `Bad Request: …`.

`test_telegram.py` checks it once with pyTelegramBotAPI, an independent client.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qsl, urlsplit

from .threaded_http import QuietHandler, ThreadedHTTPFake


class FakeTelegram(ThreadedHTTPFake):
    """The stand-in on 127.0.0.1:<free port>; `api_url` is what `notifications.telegram.api_url` takes."""

    BOT_ID = 7_000_000_001

    def __init__(self, token: str):
        self.token = token
        self.lock = threading.Lock()
        self.messages: list[dict] = []  # every accepted sendMessage: its parameters
        self.refused: list[dict] = []   # answers that were not ok
        self._flood: list[int] = []     # retry_after of the next answers (429), in order
        self.answered: list[tuple[float, int]] = []  # (time.monotonic(), HTTP status) of each sendMessage
        self._next_id = 1
        super().__init__()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def flood(self, retry_after: list[int]) -> None:
        """Answer the next sendMessage calls 429 with these `retry_after` values."""
        with self.lock:
            self._flood = list(retry_after)

    def texts(self) -> list[str]:
        with self.lock:
            return [m["text"] for m in self.messages]

    # -- the API ---------------------------------------------------------------------------

    @staticmethod
    def _error(code: int, description: str, parameters: dict | None = None) -> tuple[int, dict]:
        body = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return code, body

    def handle(self, method: str, path: str, query: str, content_type: str, body: bytes) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return self._error(404, "Not Found")
        if parts[0][3:] != self.token:
            return self._error(401, "Unauthorized")
        if parts[1].lower() != "sendmessage":
            return self._error(404, "Not Found: method not found")
        params: dict = dict(parse_qsl(query))
        if body:
            kind = content_type.split(";")[0].strip().lower()
            if kind == "application/json":
                try:
                    params.update(json.loads(body))
                except ValueError:
                    return self._error(400, "Bad Request: can't parse JSON object")
            elif kind == "application/x-www-form-urlencoded":
                params.update(dict(parse_qsl(body.decode())))
        chat = params.get("chat_id")
        if chat in (None, ""):
            return self._error(400, "Bad Request: chat_id is empty")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        with self.lock:
            if self._flood:
                wait = self._flood.pop(0)
                answer = self._error(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
                self.refused.append(params)
                self.answered.append((time.monotonic(), 429))
                return answer
            message_id = self._next_id
            self._next_id += 1
            self.messages.append(params)
            self.answered.append((time.monotonic(), 200))
        if isinstance(chat, str) and chat.startswith("@"):
            chat_obj = {"id": -1001234567890, "type": "channel", "title": chat[1:], "username": chat[1:]}
        else:
            chat_obj = {"id": int(chat), "type": "private", "first_name": "Operator"}
        return 200, {"ok": True, "result": {
            "message_id": message_id,
            "from": {"id": self.BOT_ID, "is_bot": True, "first_name": "Bedrock", "username": "bedrock_fake_bot"},
            "chat": chat_obj,
            "date": int(time.time()),
            "text": text,
        }}

    def handler(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                status, answer = fake.handle(method, url.path, url.query, self.headers.get("Content-Type") or "", body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def do_GET(self):  # noqa: N802
                self._serve("GET")

        return Handler
