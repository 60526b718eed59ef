"""Process lifecycle: Redis outages, shutdown, embedded Redis, TLS, the `watch` client."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from helpers import BEDROCK_BIN, ConnectionClosed, free_port, stream_key, wait_until


def ready_status(gw) -> int:
    try:
        return gw.http("GET", "/ready", timeout=2)[0]
    except OSError:
        return -1


def test_redis_restart_mid_subscription(gateway, redis_server):
    ws, _ = gateway.session("VIEWER", "survivor")
    try:
        gateway.subscribe(ws, "signals")
        before = gateway.xadd("signals", {"event_type": "signal.created", "n": 1})
        assert ws.expect("event")["id"] == before

        redis_server.stop(signal.SIGKILL)
        wait_until(lambda: ready_status(gateway) == 503, 15, "/ready 503 while Redis is down")
        status, _, body = gateway.get_json("/ready")
        assert body["status"] == "not_ready", body
        ws.roundtrip_ping()  # the socket stays open
        assert gateway.get_json("/health")[0] == 200

        redis_server.start()  # same port, empty data
        wait_until(lambda: ready_status(gateway) == 200, 20, "/ready 200 after Redis returns")
        ws.roundtrip_ping()
        # events appended after the restart reach the subscriber
        after = gateway.xadd("signals", {"event_type": "signal.created", "n": 2})
        f = ws.expect(lambda f: f.get("type") == "event", timeout=15)
        assert f["id"] == after and f["data"]["n"] == 2
    finally:
        ws.close()


def test_sigterm_closes_clients_1001_and_exits_0(gateway):
    clients = []
    for i in range(3):
        ws, _ = gateway.session("VIEWER", f"c{i}")
        gateway.subscribe(ws, "signals")
        clients.append(ws)
    results: dict[int, int | None] = {}

    def reader(i, ws):
        try:
            results[i] = ws.expect_close(15)[0]
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = repr(e)

    threads = [threading.Thread(target=reader, args=(i, ws)) for i, ws in enumerate(clients)]
    for t in threads:
        t.start()
    gateway.signal(signal.SIGTERM)
    for t in threads:
        t.join(20)
    code = gateway.stop(timeout=15)
    assert results == {0: 1001, 1: 1001, 2: 1001}
    assert code == 0, gateway.log_text()


def test_sigint_exits_0(gateway):
    ws, _ = gateway.session("VIEWER", "x")
    gateway.signal(signal.SIGINT)
    code, _ = ws.expect_close(15)
    assert code == 1001
    assert gateway.stop(timeout=15) == 0


def redis_children_of(data_dir: Path) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "redis-server" in cmd and str(data_dir) in cmd:
            pids.append(int(d.name))
        elif "redis-server" in cmd:
            try:
                cwd = os.readlink(d / "cwd")
            except OSError:
                continue
            if cwd.startswith(str(data_dir)):
                pids.append(int(d.name))
    return pids


def test_embedded_redis_end_to_end(start_gateway):
    gw = start_gateway(redis="embedded")
    sock = gw.data_dir / "redis.sock"
    assert sock.exists(), f"{sock} missing; data dir has {list(gw.data_dir.iterdir())}"
    assert redis_children_of(gw.data_dir), "no redis-server process for the data dir"
    status, _, body = gw.get_json("/ready")
    assert status == 200 and body["status"] == "ready", body

    ws, _ = gw.session("VIEWER", "emb")
    gw.subscribe(ws, "signals")
    eid = gw.xadd("signals", {"event_type": "signal.created", "n": 1})  # over the unix socket
    f = ws.expect("event")
    assert f["id"] == eid and f["data"]["n"] == 1

    gw.signal(signal.SIGTERM)
    code, _ = ws.expect_close(15)
    assert code == 1001
    assert gw.stop(timeout=20) == 0, gw.log_text()
    wait_until(lambda: not sock.exists(), 5, "redis.sock removed")
    wait_until(lambda: not redis_children_of(gw.data_dir), 5, "embedded redis-server stopped")


def test_embedded_redis_has_no_tcp_port(start_gateway):
    gw = start_gateway(redis="embedded")
    pids = redis_children_of(gw.data_dir)
    assert pids
    for pid in pids:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        conf_port = [cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == b"--port"]
        assert conf_port in ([], [b"0"]), cmd
    with gw.redis() as r:
        port = r.execute("CONFIG", "GET", "port")
        assert port[1] == "0", port


def test_tls_wss_and_https(start_gateway, tls_cert):
    gw = start_gateway(tls=tls_cert)
    status, headers, body = gw.http("GET", "/health")
    assert status == 200 and json.loads(body) == {"status": "healthy"}
    ws, w = gw.session("VIEWER", "secure")
    try:
        assert w["sub"] == "secure"
        gw.subscribe(ws, "signals")
        eid = gw.xadd("signals", {"event_type": "signal.created", "n": 1})
        assert ws.expect("event")["id"] == eid
    finally:
        ws.close()
    # and plain-text HTTP is not served in the clear on the TLS port
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=3)
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        assert resp.status != 200 or b"healthy" not in resp.read()
    except (OSError, http.client.HTTPException):
        pass
    finally:
        conn.close()


def test_tls_handshakes_never_stall(start_gateway, tls_cert):
    """Hundreds of wss upgrades between https requests, each answered at once. With TLS 1.3
    session tickets on, one in a few hundred upgrade requests was never answered (the gateway
    now turns tickets off); 120 rounds caught it in nearly every try."""
    gw = start_gateway(tls=tls_cert)
    token = gw.token("VIEWER", "tls")
    for round_ in range(120):
        for _ in range(3):
            assert gw.http("GET", "/health")[0] == 200
        sockets = []
        try:
            for i in range(6):
                ws = gw.connect(token)
                sockets.append(ws)
                assert ws.expect("welcome", timeout=3)["type"] == "welcome", (round_, i)
        finally:
            for ws in sockets:
                ws.close()


def test_watch_cli_prints_events(gateway):
    tok = gateway.token("VIEWER", "watcher")
    proc = subprocess.Popen([str(BEDROCK_BIN), "watch", "--url", gateway.ws_url(), "--token", tok,
                             "--topic", "signals"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    t = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    t.start()
    try:
        sent: list[str] = []

        def printed() -> str | None:
            """One of the events sent so far as `watch` printed it; else sends another (the
            client may not have subscribed yet when the first ones were appended)."""
            assert proc.poll() is None, f"watch exited {proc.returncode}: {proc.stderr.read()}"
            out = "".join(lines)
            seen = next((eid for eid in sent if eid in out), None)
            if seen is None:
                sent.append(gateway.xadd("signals", {"event_type": "signal.created", "marker": "watch-me"}))
            return seen

        eid = wait_until(printed, 15, "`bedrock watch` to print an appended event", interval=0.25,
                         seen=lambda: lines[-5:])
        out = "".join(lines)
        assert eid in out and "watch-me" in out, lines[-5:]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("args", [
    ["serve", "--port", "not-a-number"],
    ["serve", "--no-such-flag"],
    ["token", "--role", "KING", "--sub", "x"],
    ["token", "--role", "VIEWER"],
    ["no-such-command"],
], ids=["serve-bad-port", "serve-unknown-flag", "token-bad-role", "token-no-sub", "unknown-command"])
def test_cli_bad_arguments_exit_2(args, tmp_path):
    """SPEC §2: bad arguments give one clear line on stderr and exit 2."""
    r = subprocess.run([str(BEDROCK_BIN), *args, "--data-dir", str(tmp_path)], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert r.stderr.strip(), args


def test_serve_refuses_unknown_config_key_naming_it(tmp_path):
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps({"mode": "dev", "server": {"prot": 1}}))
    r = subprocess.run([str(BEDROCK_BIN), "serve", "--config", str(cfg), "--data-dir",
                        str(tmp_path / "d"), "--port", str(free_port())],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode != 0
    assert "server.prot" in r.stderr, r.stderr


def test_production_mode_refuses_short_secret(tmp_path):
    cfg = tmp_path / "prod.json"
    cfg.write_text(json.dumps({"mode": "production", "jwt": {"secret": "short"}}))
    r = subprocess.run([str(BEDROCK_BIN), "serve", "--config", str(cfg), "--data-dir",
                        str(tmp_path / "d"), "--port", str(free_port())],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode != 0
    assert "jwt.secret" in r.stderr or "JWT" in r.stderr.upper(), r.stderr
