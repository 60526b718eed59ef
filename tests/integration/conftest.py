"""Fixtures for the black-box integration tests.

- `redis_server`: a real redis-server on a free TCP port in a temp dir (`--save '' --appendonly no`).
- `start_gateway(config=..., redis=..., tls=..., args=..., env=...)`: starts the real
  `bedrock serve --config <tmp>/config/bedrock.json --port <free> --redis <url> --data-dir <tmp>`
  with a fixture-written config (mode dev, a fixed 40-byte jwt.secret) deep-merged with `config`,
  waits for `/health`, and at teardown stops it with SIGTERM and asserts exit code 0.
- `gateway`: `start_gateway()` with the defaults.
- `tls_cert`: a self-signed certificate and key for 127.0.0.1/localhost made with openssl.
- `start_gateway(..., port=P)`: a gateway on a given port (e.g. a restart on the port of one the
  test stopped, with the same `redis=` URL).
- `make_browser(size, label)`, `browser` (1400x900) and `phone_browser` (390x844): headless
  Chromium windows (tests/integration/browser.py) quit at teardown, with a screenshot under
  test-artifacts/screenshots/ when the test failed. A missing chromium fails the test, naming it.

The server's working directory is a temp "root" holding `public/` (a copy of the repo's),
`config/bedrock.json` (which contains the JWT secret) and `secret.txt`, so the path-traversal
tests can tell whether anything outside `public/` leaked.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import (JWT_SECRET, REPO, Gateway, RedisServer, deep_merge, free_port)
from browser import DESKTOP, PHONE, SCREENSHOTS, Browser, slug

SECRET_MARKER = "TOP-SECRET-OUTSIDE-PUBLIC-7f3a9c"


@pytest.fixture
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_cert(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return cert, key


@pytest.fixture
def start_gateway(request, tmp_path_factory):
    started: list[Gateway] = []

    def start(config: dict | None = None, *, redis: str | None = None,
              tls: tuple[Path, Path] | None = None, args: list[str] | None = None,
              env: dict[str, str] | None = None, wait: bool = True, port: int | None = None) -> Gateway:
        root = tmp_path_factory.mktemp("gw")
        public_src = REPO / "public"
        if public_src.is_dir():
            shutil.copytree(public_src, root / "public")
        else:
            (root / "public").mkdir()
            (root / "public" / "index.html").write_text("<!doctype html><title>Bedrock</title>")
        (root / "secret.txt").write_text(SECRET_MARKER + "\n")
        data_dir = root / "data"
        data_dir.mkdir()
        if redis is None:
            redis_url = request.getfixturevalue("redis_server").url
        else:
            redis_url = redis
        base = {
            "mode": "dev",
            "data_dir": str(data_dir),
            "server": {"host": "127.0.0.1", "port": port or free_port(), "public_dir": str(root / "public")},
            "redis": {"url": redis_url},
            "jwt": {"secret": JWT_SECRET},
        }
        if tls:
            base["server"]["tls_cert"] = str(tls[0])
            base["server"]["tls_key"] = str(tls[1])
        cfg = deep_merge(base, config or {})
        gw = Gateway(root, cfg, redis_url, tls, args or [], env)
        started.append(gw)
        gw.start(wait=wait)
        return gw

    yield start

    problems = []
    for gw in started:
        if gw.proc is None:
            continue  # the test stopped it and checked the outcome itself
        code = gw.stop()
        if code != 0:
            problems.append(f"gateway on port {gw.port} exited with {code} after SIGTERM "
                            f"(expected 0):\n{gw.log_text()}")
    for gw in started:
        print(f"--- gateway log (port {gw.port}) ---\n{gw.log_text()}")
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def gateway(start_gateway) -> Gateway:
    return start_gateway()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the item (`item.rep_call`) so fixtures can see a failure."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def make_browser(request, tmp_path_factory):
    """`make_browser(size=(w, h), label="desktop")` → a headless Chromium `Browser`."""
    opened: list[Browser] = []
    for stale in SCREENSHOTS.glob(f"{slug(request.node.name)}-*.png"):  # a previous run's
        stale.unlink()

    def make(size: tuple[int, int] = DESKTOP, label: str = "desktop") -> Browser:
        try:
            b = Browser(tmp_path_factory.mktemp(f"downloads-{label}"), size, label, request.node.name)
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)
        opened.append(b)
        return b

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for b in opened:
        if failed:
            try:
                print(f"failure screenshot: {b.screenshot('FAILED')}")
                print("console:\n" + "\n".join(b.console_lines()[-30:]))
            except Exception as e:  # noqa: BLE001 - the browser may be the thing that broke
                print(f"no failure screenshot: {e}")
        b.quit()


@pytest.fixture
def browser(make_browser) -> Browser:
    return make_browser(DESKTOP, "desktop")


@pytest.fixture
def phone_browser(make_browser) -> Browser:
    return make_browser(PHONE, "phone")
