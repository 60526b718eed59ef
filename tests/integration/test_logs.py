"""Structured logs (SPEC §13, docs/ops/LOGS.md): every HTTP answer one `http request` line at info
(the probe routes at debug, none with `log.requests: false`), every socket error frame a `ws error`
line carrying the frame's `request_id`, every close a `ws close` line; lines read as a log
shipper would (JSON parsed, text split into fields) and checked field by field."""
import json
import re
import socket

from helpers import wait_until

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TEXT_LINE = re.compile(r"^(\S+) (\w+) (.*?)((?: [a-z_]+=(?:\"(?:[^\"\\]|\\.)*\"|\S*))*)$")
TEXT_FIELD = re.compile(r" ([a-z_]+)=(\"(?:[^\"\\]|\\.)*\"|\S*)")


def json_lines(gw) -> list[dict]:
    """Every line of the gateway's log, each parsed as one JSON object (fails on any other)."""
    return [json.loads(line) for line in gw.log.read_text().splitlines() if line.strip()]


def text_lines(gw) -> list[dict]:
    """Text lines as dicts: ts, level, msg and the `key=value` fields (quoted values unquoted)."""
    out = []
    for line in gw.log.read_text().splitlines():
        m = TEXT_LINE.match(line)
        assert m, f"not a text log line: {line!r}"
        fields = {k: json.loads(v) if v.startswith('"') else v for k, v in TEXT_FIELD.findall(m.group(4))}
        out.append({"ts": m.group(1), "level": m.group(2), "msg": m.group(3), **fields})
    return out


def one(lines: list[dict], **match) -> dict:
    found = [l for l in lines if all(l.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} lines with {match}: {found or lines[-8:]}"
    return found[0]


def wait_for(gw, read, what: str, **match) -> dict:
    """The one line with `match` once the log writer (a thread of its own) has written it."""
    wait_until(lambda: any(all(l.get(k) == v for k, v in match.items()) for l in read(gw)), 10, what,
               seen=lambda: read(gw)[-5:])
    return one(read(gw), **match)


def test_json_lines_for_requests_socket_errors_and_closes(start_gateway):
    gw = start_gateway({"log": {"format": "json"}})  # level info, log.requests default true
    token = gw.token("VIEWER", "lou")

    status, headers, _ = gw.http("GET", "/v1/account?limit=5&note=secret-looking", {
        "Authorization": f"Bearer {token}", "X-Request-ID": "req-logs-1"})
    assert status == 200 and headers["x-request-id"] == "req-logs-1"
    status, headers, body = gw.http("GET", "/v1/positions")  # no token: 401
    assert status == 401
    refused_id = json.loads(body)["request_id"]
    assert headers["x-request-id"] == refused_id
    for probe in ("/health", "/health/live", "/health/ready", "/ready", "/metrics"):
        assert gw.http("GET", probe)[0] in (200, 503)

    ok = wait_for(gw, json_lines, "the /v1/account line", msg="http request", request_id="req-logs-1")
    assert TS.match(ok["ts"]), ok
    assert (ok["level"], ok["method"], ok["path"], ok["status"], ok["sub"]) == (
        "info", "GET", "/v1/account", 200, "lou"), ok
    assert isinstance(ok["duration_ms"], float) and 0 <= ok["duration_ms"] < 5000, ok
    assert set(ok) == {"ts", "level", "msg", "request_id", "method", "path", "status", "duration_ms", "sub"}, ok
    refused = wait_for(gw, json_lines, "the 401 line", msg="http request", request_id=refused_id)
    assert (refused["level"], refused["path"], refused["status"], refused["sub"]) == ("info", "/v1/positions", 401, "")

    # A socket: an error frame answering a request, a refused upgrade, closes both ways.
    ws, welcome = gw.session("TRADER", "sam")
    ws.send({"type": "request", "id": 7, "method": "no.such.method", "params": {}})
    frame = ws.expect(lambda f: f.get("type") == "error" and f.get("id") == 7)
    ws.conn.close(4000, "done here")
    logged = wait_for(gw, json_lines, "the ws error line", msg="ws error", request_id=frame["request_id"])
    assert (logged["level"], logged["session_id"], logged["sub"], logged["code"]) == (
        "info", welcome["session_id"], "sam", "NOT_FOUND"), logged
    closed = wait_for(gw, json_lines, "the client's close", msg="ws close", session_id=welcome["session_id"])
    assert (closed["code"], closed["reason"], closed["by"], closed["sub"]) == (4000, "done here", "client", "sam")

    dropped, hello = gw.session("VIEWER", "dan")
    dropped.conn.socket.shutdown(socket.SHUT_RDWR)  # gone without a close frame
    lost = wait_for(gw, json_lines, "the dropped socket", msg="ws close", session_id=hello["session_id"])
    assert (lost["code"], lost["reason"], lost["by"], lost["sub"]) == (1006, "connection lost", "client", "dan"), lost
    dropped.close()

    first = gw.connect()
    first.send({"type": "auth", "token": "not.a.token"})
    assert first.expect_close()[0] == 4401
    cut = wait_for(gw, json_lines, "the 4401 close", msg="ws close", code=4401)
    assert (cut["by"], cut["sub"], cut["level"]) == ("server", "", "info") and cut["session_id"].startswith("s"), cut

    status, _, body = gw.http("GET", "/ws?token=not.a.token", {
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "bedrock.v1"})
    assert status == 401
    upgrade = wait_for(gw, json_lines, "the refused upgrade", msg="http request",
                       request_id=json.loads(body)["request_id"])
    assert (upgrade["path"], upgrade["status"]) == ("/ws", 401), upgrade

    lines = json_lines(gw)
    requests = [l for l in lines if l["msg"] == "http request"]
    assert not [l for l in requests if l["path"].startswith(("/health", "/ready", "/metrics"))], \
        "probe routes are logged at debug only"
    assert "secret-looking" not in gw.log.read_text() and "not.a.token" not in gw.log.read_text()


def test_probe_routes_at_debug_and_no_request_lines_when_off(start_gateway):
    debug = start_gateway({"log": {"format": "json", "level": "debug"}})
    debug.http("GET", "/health/live", {"X-Request-ID": "probe-1"})
    probe = wait_for(debug, json_lines, "the probe line", msg="http request", request_id="probe-1")
    assert (probe["level"], probe["path"], probe["status"]) == ("debug", "/health/live", 200), probe

    off = start_gateway({"log": {"format": "json", "level": "debug", "requests": False}})
    token = off.token("VIEWER", "quiet")
    for i in range(3):
        assert off.http("GET", "/v1/account", {"Authorization": f"Bearer {token}", "X-Request-ID": f"off-{i}"})[0] == 200
    off.http("GET", "/health/live")
    # The counter still counts them; no line names them.
    off.metrics_with('bedrock_http_requests_total{route="account.get",status="200"} 3')
    ws, welcome = off.session("VIEWER", "quiet")
    ws.conn.close(1000, "bye")
    wait_for(off, json_lines, "a later line", msg="ws close", session_id=welcome["session_id"])
    assert not [l for l in json_lines(off) if l["msg"] == "http request"]


def test_text_lines_carry_the_same_fields(start_gateway):
    gw = start_gateway({"log": {"format": "text"}})
    token = gw.token("VIEWER", "tess")
    gw.http("GET", "/v1/account?x=1", {"Authorization": f"Bearer {token}", "X-Request-ID": "text-1"})
    gw.http("GET", "/no/such%20file.txt", {"X-Request-ID": "text-2"})
    line = wait_for(gw, text_lines, "the text line", msg="http request", request_id="text-1")
    assert TS.match(line["ts"]), line
    assert (line["level"], line["method"], line["path"], line["status"], line["sub"]) == (
        "info", "GET", "/v1/account", "200", "tess"), line
    assert float(line["duration_ms"]) >= 0
    missing = wait_for(gw, text_lines, "the 404 line", msg="http request", request_id="text-2")
    assert (missing["status"], missing["sub"]) == ("404", ""), missing
