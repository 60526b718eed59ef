"""Small stdlib-only HTTP helpers shared by the benchmark scripts (they run with the system python)."""

from __future__ import annotations

import http.client
import time


def timed_get(port: int, path: str, token: str) -> tuple[float, int, bytes]:
    """GET `path` on the loopback gateway at `port` with a Bearer `token` on a fresh connection:
    (milliseconds from request to the whole body, status, body)."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return (time.perf_counter() - t0) * 1000, resp.status, body
