"""The HTTP edge, seen from raw sockets: every request is answered at once with the SPEC §4 error
body (never left hanging, never dropped without an answer inside the limits), request heads up to
16 KiB are served, `/metrics` can be protected, and `bedrock serve` refuses to start when it cannot
listen as configured or has no public directory (docs/HTTP.md)."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from helpers import RFC3339, free_port, make_jwt

ANSWER_WITHIN = 2.0  # seconds: "at once", with room for a loaded machine


def raw_request(port: int, data: bytes, timeout: float = ANSWER_WITHIN, host: str = "127.0.0.1"):
    """Sends `data` as is and reads one response until its `content-length` is in (or the server
    closes). Returns (status, headers with lower-case names, body, seconds taken); fails when
    nothing complete arrived within `timeout`."""
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        reply = b""
        while True:
            head, sep, body = reply.partition(b"\r\n\r\n")
            if sep:
                length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
                if length and len(body) >= int(length.group(1)):
                    break
            remaining = timeout - (time.monotonic() - started)
            assert remaining > 0, f"no complete answer within {timeout}s; got {reply[:200]!r}"
            s.settimeout(remaining)
            try:
                chunk = s.recv(65536)
            except (socket.timeout, TimeoutError):
                raise AssertionError(f"no complete answer within {timeout}s; got {reply[:200]!r}")
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head, "connection closed without an answer"
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body, time.monotonic() - started


def assert_error(status, headers, body, code: str, expected: int) -> dict:
    assert status == expected, f"status {status}, body {body[:300]!r}"
    assert headers.get("content-type", "").startswith("application/json"), headers
    err = json.loads(body)
    assert err["error_code"] == code, err
    assert err["message"], err
    assert re.match(RFC3339, err["timestamp"]), err
    assert err["request_id"] and err["request_id"] == headers.get("x-request-id"), (err, headers)
    return err


def long_token(length: int, role: str = "VIEWER") -> str:
    """A valid HS256 token of `length` characters or one or two more (extra claim `pad`)."""
    claims = {"sub": "long", "role": role, "exp": int(time.time()) + 600, "iat": int(time.time()), "pad": ""}
    short = len(make_jwt(claims))
    claims["pad"] = "x" * max(0, (length - short) * 3 // 4 - 3)
    while len(make_jwt(claims)) < length:
        claims["pad"] += "x"
    return make_jwt(claims)


# ---------------------------------------------------------------------------------------------
# request heads


def test_long_token_over_http(gateway):
    """A valid 4,180-byte token (over lws's default 4 KiB head) authenticates a REST call."""
    token = long_token(4180)
    assert 4180 <= len(token) <= 4182, len(token)
    status, _, body, _ = raw_request(
        gateway.port, f"GET /v1/account HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    assert status == 200, body[:300]
    assert "balance" in json.loads(body)


def test_sixteen_kib_of_headers_is_served(gateway):
    """An 8 KiB token plus 7.5 KiB of cookies (about 15.6 KiB of head) is still a normal request."""
    token = long_token(8000)
    head = (f"GET /v1/account HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
            f"Cookie: c={'y' * 7500}\r\nUser-Agent: edge-test\r\n\r\n").encode()
    assert 15_000 < len(head) < 16 * 1024
    status, _, body, _ = raw_request(gateway.port, head)
    assert status == 200, body[:300]


@pytest.mark.parametrize("path", ["/health", "/ws"])
def test_twenty_kib_of_headers_is_431(gateway, path):
    upgrade = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: bedrock.v1\r\n"
               if path == "/ws" else "")
    head = f"GET {path} HTTP/1.1\r\nHost: t\r\n{upgrade}Cookie: c={'z' * 20_000}\r\n\r\n".encode()
    assert_error(*raw_request(gateway.port, head)[:3], "HEADERS_TOO_LARGE", 431)


def test_long_url_is_414_and_a_shorter_one_is_served(gateway):
    ok = raw_request(gateway.port, f"GET /health?pad={'a' * 7000} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert ok[0] == 200, ok[2][:200]
    too_long = raw_request(gateway.port, f"GET /health?pad={'a' * 10_000} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert_error(*too_long[:3], "URI_TOO_LONG", 414)


# ---------------------------------------------------------------------------------------------
# requests that used to hang


@pytest.mark.parametrize("framing, code, status", [
    ("Transfer-Encoding: chunked\r\n", "LENGTH_REQUIRED", 411),
    ("Content-Length: 10000000000\r\n", "PAYLOAD_TOO_LARGE", 413),
    ("Content-Length: -5\r\n", "BAD_REQUEST", 400),
    ("Content-Length: 12abc\r\n", "BAD_REQUEST", 400),
], ids=["chunked", "huge-length", "negative-length", "garbage-length"])
def test_body_framing_answered_at_once(gateway, framing, code, status):
    """No body is ever sent: the answer must not wait for one."""
    token = gateway.token("TRADER", "framing")
    head = (f"POST /v1/signals/generate HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n").encode()
    got = raw_request(gateway.port, head)
    assert_error(*got[:3], code, status)
    assert got[1].get("connection", "").lower() == "close", got[1]


def test_chunked_body_sent_with_it_is_411(gateway):
    token = gateway.token("TRADER", "chunks")
    data = (f"POST /v1/signals/generate HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n").encode()
    assert_error(*raw_request(gateway.port, data)[:3], "LENGTH_REQUIRED", 411)


def test_connect_is_405(gateway):
    got = raw_request(gateway.port, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    assert_error(*got[:3], "METHOD_NOT_ALLOWED", 405)


@pytest.mark.parametrize("request_line", [
    "PUT /health", "DELETE /health", "POST /health", "PUT /ready", "DELETE /ready", "PUT /metrics",
    "DELETE /metrics", "POST /metrics",
])
def test_wrong_method_on_probe_routes_is_405(gateway, request_line):
    got = raw_request(gateway.port, f"{request_line} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode())
    assert_error(*got[:3], "METHOD_NOT_ALLOWED", 405)
    assert got[1].get("allow") == "GET, HEAD", got[1]


@pytest.mark.parametrize("request_line, allow", [
    ("PATCH /v1/account", "GET, HEAD"),
    ("DELETE /v1/account", "GET, HEAD"),
    ("PUT /v1/risk/kill-switch", "POST"),
    ("GET /v1/risk/kill-switch", "POST"),
])
def test_wrong_method_on_a_v1_route_is_405_with_allow(gateway, request_line, allow):
    token = gateway.token("ADMIN", "methods")
    got = raw_request(gateway.port, (f"{request_line} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
                                     "Content-Length: 0\r\n\r\n").encode())
    assert_error(*got[:3], "METHOD_NOT_ALLOWED", 405)
    assert got[1].get("allow") == allow, got[1]


def test_unknown_v1_path_is_still_404(gateway):
    token = gateway.token("VIEWER", "methods")
    got = raw_request(gateway.port, f"PATCH /v1/nope HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    assert_error(*got[:3], "NOT_FOUND", 404)


def test_keep_alive_connection_serves_the_next_request_after_a_405(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=ANSWER_WITHIN) as s:
        s.sendall(b"DELETE /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        reply = b""
        deadline = time.monotonic() + ANSWER_WITHIN
        while reply.count(b"HTTP/1.1 ") < 2 or not reply.endswith(b'{"status":"healthy"}'):
            assert time.monotonic() < deadline, reply[:400]
            chunk = s.recv(65536)
            assert chunk, reply[:400]
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 405"), reply[:100]


# ---------------------------------------------------------------------------------------------
# /metrics behind a token


def test_metrics_token(start_gateway):
    secret = "metrics-" + "k" * 24
    gw = start_gateway({"server": {"metrics_token": secret}})
    for headers in ({}, {"Authorization": "Bearer metrics-wrong-token-0000000000"},
                    {"Authorization": f"Bearer {secret}x"}, {"Authorization": secret}):
        status, h, body = gw.http("GET", "/metrics", headers)
        assert_error(status, h, body, "UNAUTHENTICATED", 401)
    status, _, body = gw.http("GET", "/metrics", {"Authorization": f"Bearer {secret}"})
    assert status == 200 and b"bedrock_" in body, body[:200]
    # Other routes are unaffected.
    assert gw.http("GET", "/health")[0] == 200
    assert secret not in gw.log_text()


# ---------------------------------------------------------------------------------------------
# start-up refusals


def exit_of(gw, timeout: float = 30.0) -> tuple[int, str]:
    """Waits for a gateway that must refuse to start; returns (exit code, its output)."""
    try:
        code = gw.proc.wait(timeout)
    except Exception:
        gw.stop()
        raise AssertionError(f"bedrock serve still running after {timeout}s:\n{gw.log_text()}")
    gw.proc = None
    gw.logf.close()
    return code, gw.log.read_text(errors="replace")


def bindable(address: str) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("host", ["256.1.1.1", "10.255.255.1", "198.51.100.77", "no-such-interface0"])
def test_host_that_cannot_be_bound_refuses_to_start(start_gateway, host):
    if host[0].isdigit() and host != "256.1.1.1" and bindable(host):
        pytest.skip(f"{host} is an address of this machine")
    gw = start_gateway({"server": {"host": host}}, wait=False)
    code, out = exit_of(gw)
    assert code == 1, out
    assert "server.host" in out and host in out, out
    assert "listening on" not in out, out


def test_ipv4_host_binds_only_that_address(gateway):
    """server.host 127.0.0.1 is loopback only: a socket on every interface would also answer on
    127.0.0.2."""
    assert gateway.http("GET", "/health")[0] == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", gateway.port), timeout=2).close()


def test_port_in_use_names_server_port(start_gateway):
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        gw = start_gateway(port=port, wait=False)
        code, out = exit_of(gw)
    assert code == 1, out
    assert "server.port" in out and str(port) in out, out


@pytest.mark.parametrize("kind", ["missing", "a-file"])
def test_public_dir_must_be_a_directory(start_gateway, tmp_path, kind):
    target = tmp_path / "no-such-public"
    if kind == "a-file":
        target = tmp_path / "public.txt"
        target.write_text("not a directory")
    gw = start_gateway({"server": {"public_dir": str(target)}}, wait=False)
    code, out = exit_of(gw)
    assert code == 1, out
    assert "server.public_dir" in out and str(target) in out, out
