"""A scriptable stand-in for an OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama,
llama.cpp, Qwen's compatible mode): no model is reachable from the build machines.

`POST /v1/chat/completions` answers the documented non-streaming shape field for field:

    {"id": "chatcmpl-…", "object": "chat.completion", "created": <unix s>, "model": <asked>,
     "choices": [{"index": 0, "message": {"role": "assistant", "content": <text>, "refusal": null},
                  "logprobs": null, "finish_reason": "stop"}],
     "usage": {"prompt_tokens": n, "completion_tokens": m, "total_tokens": n + m},
     "system_fingerprint": null}

and errors as `{"error": {"message", "type", "param", "code"}}`. A request without a JSON object
body holding `model` and a `messages` list is a 400 (`invalid_request_error`).

What it answers is scripted: each scripted answer is used once, in order; with none left it
answers `default_text`. Answers: `answer(text, delay_s)`, `fail(status, retry_after, body)` (429
with `Retry-After`, 500, a 401 echoing a key…), `garbage(body)` (200 with a body that is not a
chat completion), `hang()` (never answers until the fake stops). Every request is recorded
(method, path, headers with lower-case names — `authorization` included — and the body, parsed
when JSON), the last `MAX_RECORDED` kept.

In process: `with FakeLLM() as llm: llm.answer("POSITIVE: …"); … llm.requests()`. As its own
process: `python -m fakes llm` prints `{"llm", "http_url", "base_url", "control"}` and serves the
same methods as `GET /__control/<method>?arg=value` → `{"result": …}` (400/404 `{"error": …}`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX = "/__control/"
COMPLETIONS_PATH = "/v1/chat/completions"
MAX_RECORDED = 1000
MAX_BODY = 1 << 20


class FakeLLM:
    """The fake on 127.0.0.1:<free port>; a context manager, or `start`/`stop`."""

    # control method -> {argument: type}
    CONTROL: dict[str, dict[str, type]] = {
        "answer": {"text": str, "delay_s": float, "finish_reason": str, "times": int},
        "fail": {"status": int, "retry_after": str, "body": str, "delay_s": float, "times": int},
        "garbage": {"body": str, "content_type": str, "times": int},
        "hang": {"times": int},
        "set_default": {"text": str},
        "requests": {},
        "request_count": {},
        "reset": {},
    }

    def __init__(self, default_text: str = "NEUTRAL: no news"):
        self.default_text = default_text
        self.lock = threading.Lock()
        self._script: deque[dict[str, Any]] = deque()
        self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED)
        self._served = 0
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Off unless asked (`python -m fakes llm` turns it on): in process, call the methods.
        self.control_routes = False

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else 0

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What a client takes as its base URL (`{base_url}/chat/completions`)."""
        return self.http_url + "/v1"

    def start(self) -> "FakeLLM":
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="FakeLLM", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # releases hanging and delayed answers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- scripting ---------------------------------------------------------------------------

    def answer(self, text: str, delay_s: float = 0, finish_reason: str = "stop", times: int = 1) -> int:
        """The next `times` calls answer `text` after `delay_s`. Returns the script's length."""
        return self._push({"kind": "answer", "text": text, "delay_s": delay_s, "finish_reason": finish_reason}, times)

    def fail(self, status: int, retry_after: str | None = None, body: str | None = None,
             delay_s: float = 0, times: int = 1) -> int:
        """The next `times` calls answer HTTP `status` (with `Retry-After: retry_after` when given)
        and `body`, by default an OpenAI error object."""
        if not 400 <= status <= 599:
            raise ValueError("status must be 400-599")
        return self._push({"kind": "fail", "status": status, "retry_after": retry_after, "body": body,
                           "delay_s": delay_s}, times)

    def garbage(self, body: str = "<html>upstream exploded", content_type: str = "text/html",
                times: int = 1) -> int:
        """The next `times` calls answer 200 with `body` as it is."""
        return self._push({"kind": "garbage", "body": body, "content_type": content_type}, times)

    def hang(self, times: int = 1) -> int:
        """The next `times` calls never answer (until the fake stops)."""
        return self._push({"kind": "hang"}, times)

    def set_default(self, text: str) -> str:
        """What calls answer once the script is used up."""
        with self.lock:
            self.default_text = text
        return text

    def requests(self) -> list[dict[str, Any]]:
        """The recorded requests, oldest first: `{method, path, headers, body}`."""
        with self.lock:
            return list(self._requests)

    def request_count(self) -> int:
        """How many completion requests arrived (all of them, not only those still recorded)."""
        with self.lock:
            return self._served

    def reset(self) -> bool:
        """Forgets the script and the recorded requests."""
        with self.lock:
            self._script.clear()
            self._requests.clear()
            self._served = 0
        return True

    def _push(self, step: dict[str, Any], times: int) -> int:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self.lock:
            self._script.extend(dict(step) for _ in range(times))
            return len(self._script)

    # -- serving (handler threads) -------------------------------------------------------------

    def _next_step(self, record: dict[str, Any], valid: bool) -> dict[str, Any] | None:
        """Records the request; for a valid one, takes the next scripted answer."""
        with self.lock:
            self._requests.append(record)
            self._served += 1
            if not valid:
                return None
            if self._script:
                return self._script.popleft()
            return {"kind": "answer", "text": self.default_text, "delay_s": 0, "finish_reason": "stop"}

    def _completion(self, request: dict[str, Any], text: str, finish_reason: str) -> dict[str, Any]:
        with self.lock:
            serial = self._served
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request["messages"]
                            if isinstance(m, dict))
        completion_tokens = len(text.split())
        return {
            "id": f"chatcmpl-fake{serial:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request["model"],
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
            "system_fingerprint": None,
        }

    def _control(self, name: str, query: dict[str, str]) -> tuple[int, Any]:
        spec = self.CONTROL.get(name)
        if spec is None:
            return 404, {"error": f"no control method {name!r}", "methods": sorted(self.CONTROL)}
        kwargs: dict[str, Any] = {}
        try:
            for key, value in query.items():
                kind = spec.get(key)
                if kind is None:
                    return 400, {"error": f"{name} takes no argument {key!r}"}
                kwargs[key] = kind(value)
            return 200, {"result": getattr(self, name)(**kwargs)}
        except (TypeError, ValueError) as exc:
            return 400, {"error": str(exc)}


def openai_error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    """The error object OpenAI's API answers with."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


_ERROR_KINDS = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
                429: "rate_limit_error"}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeLLM
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm"

    def log_message(self, *args) -> None:  # quiet: tests read the recorded requests instead
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if self.owner.control_routes and parts.path.startswith(CONTROL_PREFIX):
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            status, body = self.owner._control(parts.path[len(CONTROL_PREFIX):], query)
            self._send(status, json.dumps(body))
            return
        self._send(404, json.dumps(openai_error(f"Unknown request URL: GET {parts.path}", "invalid_request_error")))

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, json.dumps(openai_error("request too large", "invalid_request_error")))
            return
        raw = self.rfile.read(length) if length > 0 else b""
        if parts.path != COMPLETIONS_PATH:
            self._send(404, json.dumps(openai_error(f"Unknown request URL: POST {parts.path}",
                                                    "invalid_request_error")))
            return
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {"method": "POST", "path": parts.path, "headers": headers, "body": body}
        valid = (isinstance(body, dict) and isinstance(body.get("model"), str)
                 and isinstance(body.get("messages"), list) and bool(body["messages"]))
        step = self.owner._next_step(record, valid)
        if step is None:
            self._send(400, json.dumps(openai_error(
                "a JSON body with 'model' and a non-empty 'messages' list is required", "invalid_request_error")))
            return
        if step["kind"] == "hang":
            self.owner._stopping.wait()
            self.close_connection = True
            return
        if self.owner._stopping.wait(step.get("delay_s", 0) or 0):
            self.close_connection = True
            return
        if step["kind"] == "answer":
            self._send(200, json.dumps(self.owner._completion(body, step["text"], step["finish_reason"])))
        elif step["kind"] == "garbage":
            self._send(200, step["body"], step["content_type"])
        else:
            status = step["status"]
            text = step["body"]
            if text is None:
                kind = _ERROR_KINDS.get(status, "server_error" if status >= 500 else "invalid_request_error")
                text = json.dumps(openai_error(f"fake failure {status}", kind))
            headers = {"Retry-After": step["retry_after"]} if step["retry_after"] is not None else {}
            self._send(status, text, headers=headers)

    def _send(self, status: int, text: str, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
