"""nginx in front of two gateways (the site file deploy/nginx/bedrock.conf, SPEC §13): REST and
WebSocket through it, X-Request-ID passed through, and a client whose gateway dies (kill -9) or
is drained (SIGTERM) reconnects through nginx to the other and, resuming with `since`, sees
every event once — no gap, no duplicate.
"""

from __future__ import annotations

import http.client
import json
import re
import signal

import pytest

from followers import Follower, Publisher, assert_every_event_once
from helpers import wait_until
from nginx import Nginx


@pytest.fixture
def pair(start_gateway, redis_server):
    """Two gateways on one Redis (the fixture's fixed JWT secret: a token is good on both)."""
    return start_gateway(redis=redis_server.url), start_gateway(redis=redis_server.url)


@pytest.fixture
def proxy(tmp_path, pair):
    n = Nginx(tmp_path / "nginx", [gw.port for gw in pair])
    n.start()
    yield n
    n.stop()


def active(gw) -> int:
    status, _, body = gw.get_json("/ready")
    return body["active_connections"] if status == 200 else 0


def through(proxy: Nginx, method: str, path: str, headers: dict | None = None):
    c = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def test_rest_and_request_ids_pass_through_nginx(pair, proxy):
    gw = pair[0]
    status, headers, body = through(proxy, "GET", "/v1/account", {"Authorization": f"Bearer {gw.token('VIEWER')}",
                                                                  "X-Request-ID": "drill-42"})
    assert status == 200 and "balance" in json.loads(body), body
    assert headers["x-request-id"] == "drill-42"
    # None sent: nginx makes one, the gateway answers with it and nginx's access log has it.
    status, headers, _ = through(proxy, "GET", "/health")
    assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"]), headers
    wait_until(lambda: f"rid={headers['x-request-id']} " in proxy.access_log.read_text(), 5,
               "the request id in nginx's access log")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_client_resumes_through_nginx_on_the_other_gateway_without_gap(pair, proxy, sig):
    token = pair[0].token("VIEWER", "follower")
    follower = Follower(lambda _: f"ws://127.0.0.1:{proxy.port}/ws?token={token}", "signals")
    follower.connect()
    wait_until(lambda: sum(active(gw) for gw in pair) == 1, 10, "the socket counted on one gateway")
    first = next(gw for gw in pair if active(gw) == 1)
    other = pair[1] if first is pair[0] else pair[0]
    publisher = Publisher(first.xadd, "signals", count=300, interval=0.005)
    follower.read(lambda f: len(f.events) >= 50, 15)
    code = first.stop(sig)
    assert code == (0 if sig == signal.SIGTERM else -signal.SIGKILL), first.log_text()
    follower.read(lambda f: publisher.all_seen_by(f), 30)
    assert active(other) == 1, "the second session is on the other gateway"
    follower.close()
    assert follower.closes == [1001 if sig == signal.SIGTERM else None], follower.closes
    assert follower.sessions == 2 and follower.recovered == [True]
    assert follower.errors == []
    assert_every_event_once(follower, publisher.ids)
