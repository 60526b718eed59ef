"""HTTP surface of `bedrock serve` (SPEC §4), seen from a plain HTTP client."""

from __future__ import annotations

import http.client
import json
import re
import time

import pytest

from conftest import SECRET_MARKER
from helpers import JWT_SECRET, RFC3339, make_jwt, wait_until


def assert_error_body(status: int, headers: dict, body: bytes, code: str, expected_status: int) -> dict:
    assert status == expected_status, f"status {status}, body {body[:300]!r}"
    assert headers.get("content-type", "").startswith("application/json"), headers
    err = json.loads(body)
    assert err["error_code"] == code, err
    assert isinstance(err["message"], str) and err["message"], err
    assert re.match(RFC3339, err["timestamp"]), err["timestamp"]
    assert err["request_id"], err
    assert err["request_id"] == headers.get("x-request-id"), (err, headers.get("x-request-id"))
    return err


def test_health(gateway):
    status, headers, body = gateway.get_json("/health")
    assert status == 200
    assert body == {"status": "healthy"}
    assert headers.get("content-type", "").startswith("application/json")
    assert headers.get("x-request-id")


def test_ready(gateway):
    # /health answers as soon as the port is bound; the Redis bridge connects moments later, and
    # until then /ready rightly says 503 (a load balancer waits for 200 the same way).
    answers: list = []
    wait_until(lambda: answers.append(gateway.get_json("/ready")) or answers[-1][0] == 200, 10,
               "/ready to answer 200", seen=lambda: answers[-1][2])
    status, headers, body = answers[-1]
    assert status == 200, body
    assert body["status"] == "ready"
    assert isinstance(body["checks"], dict)
    assert isinstance(body["active_connections"], int)


def test_ready_counts_connections(gateway):
    ws, _ = gateway.session("VIEWER", "counter")
    try:
        _, _, body = gateway.get_json("/ready")
        assert body["active_connections"] >= 1
    finally:
        ws.close()


def test_metrics_prometheus_text(gateway):
    status, headers, body = gateway.http("GET", "/metrics")
    assert status == 200
    assert headers.get("content-type", "").startswith("text/plain"), headers
    text = body.decode()
    assert "bedrock_" in text
    assert "# TYPE bedrock_" in text


def test_request_id_generated_and_echoed(gateway):
    _, h1, _ = gateway.http("GET", "/health")
    _, h2, _ = gateway.http("GET", "/health")
    assert h1.get("x-request-id") and h2.get("x-request-id")
    assert h1["x-request-id"] != h2["x-request-id"]

    _, h3, _ = gateway.http("GET", "/health", {"X-Request-ID": "client-req-42_abc"})
    assert h3.get("x-request-id") == "client-req-42_abc"


def test_insane_request_id_is_replaced(gateway):
    bad = "a b\"<script>" + "x" * 300
    _, h, _ = gateway.http("GET", "/health", {"X-Request-ID": bad})
    assert h.get("x-request-id")
    assert h["x-request-id"] != bad


@pytest.mark.parametrize("path", ["/health", "/", "/v1/markets", "/does-not-exist"])
def test_every_response_has_request_id_and_security_headers(gateway, path):
    _, h, _ = gateway.http("GET", path)
    assert h.get("x-request-id"), h
    assert h.get("x-content-type-options", "").lower() == "nosniff", h


def test_v1_without_token_is_401_error_body(gateway):
    status, headers, body = gateway.http("GET", "/v1/anything", {"X-Request-ID": "rid-401"})
    err = assert_error_body(status, headers, body, "UNAUTHENTICATED", 401)
    assert err["request_id"] == "rid-401"


@pytest.mark.parametrize("token", [
    "garbage",
    make_jwt({"sub": "a", "role": "ADMIN", "exp": int(time.time()) + 600}, secret="x" * 40),
    make_jwt({"sub": "a", "role": "ADMIN", "exp": int(time.time()) + 600}, alg="none"),
    make_jwt({"sub": "a", "role": "ADMIN", "exp": int(time.time()) - 600}),
    make_jwt({"sub": "a", "role": "ADMIN"}),
    make_jwt({"sub": "a", "role": "KING", "exp": int(time.time()) + 600}),
], ids=["garbage", "wrong-key", "alg-none", "expired", "no-exp", "bad-role"])
def test_v1_with_bad_token_is_401(gateway, token):
    status, headers, body = gateway.http("GET", "/v1/markets", {"Authorization": f"Bearer {token}"})
    assert_error_body(status, headers, body, "UNAUTHENTICATED", 401)


def test_python_signed_token_is_accepted(gateway):
    """Sanity check of the negative cases above: the same signer with the right key works."""
    tok = make_jwt({"sub": "py", "role": "VIEWER", "exp": int(time.time()) + 600,
                    "iat": int(time.time())})
    status, headers, body = gateway.http("GET", "/v1/nope", {"Authorization": f"Bearer {tok}"})
    assert status == 404, body


def test_v1_unknown_route_with_token_is_404(gateway):
    tok = gateway.token("VIEWER", "bob")
    status, headers, body = gateway.http("GET", "/v1/nope", {"Authorization": f"Bearer {tok}"})
    assert_error_body(status, headers, body, "NOT_FOUND", 404)


def test_static_index(gateway):
    status, headers, body = gateway.http("GET", "/")
    assert status == 200
    assert headers.get("content-type", "").startswith("text/html"), headers
    assert b"Bedrock" in body
    status2, _, body2 = gateway.http("GET", "/index.html")
    assert status2 == 200 and body2 == body


def test_static_css_content_type(gateway):
    status, headers, _ = gateway.http("GET", "/app.css")
    assert status == 200
    assert headers.get("content-type", "").startswith("text/css"), headers


def test_static_missing_is_404(gateway):
    status, _, body = gateway.http("GET", "/no-such-file.html")
    assert status == 404


@pytest.mark.parametrize("path", [
    "/../config/bedrock.json",
    "/%2e%2e/config/bedrock.json",
    "/..%2fconfig/bedrock.json",
    "/..%2fconfig",
    "/%2e%2e%2fsecret.txt",
    "/../secret.txt",
    "/..%5csecret.txt",
    "/public/../secret.txt",
    "/./../secret.txt",
    "//etc/passwd",
    "/%2f%2fetc/passwd",
    "/..%252fsecret.txt",
    "/static/..%2f..%2fsecret.txt",
])
def test_path_traversal_never_serves_outside_public(gateway, path):
    try:
        status, _, body = gateway.http("GET", path)
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return  # refusing to answer at all is fine too
    text = body.decode(errors="replace")
    assert JWT_SECRET not in text
    assert SECRET_MARKER not in text
    assert "root:x:0:0" not in text
    assert status in (400, 403, 404), f"{path} -> {status}"


def test_security_headers_on_static_page(gateway):
    _, h, _ = gateway.http("GET", "/")
    assert h.get("x-content-type-options", "").lower() == "nosniff"
    assert "content-security-policy" in h, h


def test_cors_allowed_origin(start_gateway):
    gw = start_gateway({"server": {"cors_origins": ["https://app.example"]}})
    _, h, _ = gw.http("GET", "/health", {"Origin": "https://app.example"})
    assert h.get("access-control-allow-origin") == "https://app.example", h

    _, h2, _ = gw.http("GET", "/health", {"Origin": "https://evil.example"})
    assert h2.get("access-control-allow-origin") not in ("https://evil.example", "*"), h2


def test_cors_preflight(start_gateway):
    gw = start_gateway({"server": {"cors_origins": ["https://app.example"]}})
    status, h, _ = gw.http("OPTIONS", "/v1/markets", {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    })
    assert status in (200, 204), status
    assert h.get("access-control-allow-origin") == "https://app.example", h


def test_no_cors_header_without_config(gateway):
    _, h, _ = gateway.http("GET", "/health", {"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in h, h


def test_oversized_request_body_is_413(gateway):
    """Request bodies are bounded (1 MiB as implemented): a larger one gets 413 PAYLOAD_TOO_LARGE."""
    tok = gateway.token("TRADER", "poster")
    body = json.dumps({"market": "BTCUSDT", "pad": "x" * (3 << 19)}).encode()  # 1.5 MiB
    try:
        status, headers, data = gateway.http("POST", "/v1/signals/generate", {
            "Authorization": f"Bearer {tok}", "Content-Type": "application/json"}, body, timeout=10)
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        raise AssertionError("connection dropped instead of a 413 answer")
    assert_error_body(status, headers, data, "PAYLOAD_TOO_LARGE", 413)


def test_unauthenticated_post_is_401_before_routing(gateway):
    status, headers, body = gateway.http("POST", "/v1/backtest/submit",
                                         {"Content-Type": "application/json"}, b"{}")
    assert_error_body(status, headers, body, "UNAUTHENTICATED", 401)


def test_post_without_content_length_is_answered(gateway):
    """A bodiless POST (no Content-Length, as many clients send for e.g. a close) is answered at
    once, not left waiting for a body that never comes."""
    import socket
    tok = gateway.token("VIEWER", "bodiless")
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as s:
        s.sendall(f"POST /v1/risk/kill-switch HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {tok}\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403"), head
    assert json.loads(body)["error_code"] == "FORBIDDEN"


def test_forbidden_caller_hears_forbidden_whatever_the_body(gateway):
    """The role decides first: a VIEWER posting a body that does not parse to an ADMIN route gets
    FORBIDDEN, while a caller who may call it gets BAD_REQUEST for the same body."""
    for role, code, status in [("VIEWER", "FORBIDDEN", 403), ("ADMIN", "BAD_REQUEST", 400)]:
        tok = gateway.token(role, "bodies")
        got_status, headers, body = gateway.http(
            "POST", "/v1/risk/kill-switch",
            {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}, b"{not json")
        assert_error_body(got_status, headers, body, code, status)
