"""Late answers: a method answered on a worker after its HTTP client has gone must never reach the
request that comes next (over a new connection that may reuse the same server-side objects)."""

from __future__ import annotations

import http.client
import json
import time


def send_get(port: int, path: str, token: str) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Connection", "keep-alive")
    conn.endheaders()
    return conn


def test_a_late_answer_for_a_closed_request_never_reaches_the_next_one(start_gateway):
    # One service loop, so the second connection lands where the first one's objects were freed.
    gw = start_gateway({"server": {"service_threads": 1}})
    token = gw.token(role="VIEWER")
    with gw.redis() as redis:
        for round_ in range(6):
            # Every Redis command of the gateway waits while the pause lasts: both requests are
            # still on their workers when the first client gives up.
            assert redis.execute("CLIENT", "PAUSE", "700", "ALL") == "OK"
            paused_at = time.monotonic()
            gone = send_get(gw.port, "/v1/account", token)
            # Give the gateway a moment to read the request and hand it to a worker. Nothing
            # observable says it has (Redis answers nothing during the pause); when it has not,
            # the round proves less but cannot fail wrongly.
            time.sleep(0.05)
            gone.close()
            waiting = send_get(gw.port, "/v1/stats", token)
            response = waiting.getresponse()
            body = json.loads(response.read())
            assert time.monotonic() - paused_at >= 0.5, "the request was not held by the pause"
            assert response.status == 200, body
            assert "win_rate" in body and "balance" not in body, (round_, body)
            # The same keep-alive connection carries on with its own answers.
            waiting.putrequest("GET", "/health", skip_accept_encoding=True)
            waiting.endheaders()
            follow = waiting.getresponse()
            assert json.loads(follow.read()) == {"status": "healthy"}
            waiting.close()
