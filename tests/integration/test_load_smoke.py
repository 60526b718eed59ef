"""CI smoke load test (issue 7): 500 concurrent authenticated WebSocket connections, all
subscribed to `signals`; 200 events appended to the stream must reach every connection exactly
once and in order, with nothing dropped and no disconnect.

Runs the real load generator (`loadtest smoke`, built next to `BEDROCK_BIN`, or `LOADTEST_BIN`)
against the real gateway and redis-server started by the fixtures in conftest.py, once with each
of its clients (libwebsockets' and the raw-socket one the benchmarks use), and once more against a
gateway with three service loops.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from helpers import BEDROCK_BIN, JWT_SECRET

LOADTEST_BIN = Path(os.environ.get("LOADTEST_BIN", BEDROCK_BIN.parent / "loadtest"))


@pytest.mark.parametrize("client,loops", [("lws", 0), ("raw", 0), ("raw", 3)])
def test_500_subscribers_get_every_event_exactly_once_in_order(start_gateway, client, loops):
    assert LOADTEST_BIN.exists(), f"{LOADTEST_BIN} is missing: build it with `swift build` (product loadtest)"
    gw = start_gateway({"server": {"service_threads": loops}})
    started = time.monotonic()
    result = subprocess.run(
        [str(LOADTEST_BIN), "smoke", "--host", "127.0.0.1", "--port", str(gw.port),
         "--redis", gw.redis_url, "--connections", "500", "--events", "200", "--rate", "1000",
         "--server-pid", str(gw.proc.pid), "--timeout", "30", "--client", client, "--quiet"],
        env={**os.environ, "BEDROCK_JWT_SECRET": JWT_SECRET},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=55)
    elapsed = time.monotonic() - started
    print(result.stdout)
    print(result.stderr)
    assert result.returncode == 0, f"loadtest smoke failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    assert "smoke: 500 passed, 0 failed" in result.stdout
    assert elapsed < 60
