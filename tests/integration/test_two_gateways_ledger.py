"""Two gateways on one Redis (issue 4): whichever gateway's engine processes a bar and whichever
gateway a write arrives at, a client on either gateway sees every ledger event exactly once and
in stream order, and both gateways answer the same ledger state."""

from __future__ import annotations

import json
import threading

from helpers import ConnectionClosed, stream_key, wait_until
from test_engine import FAST, engine_wired, replay, sample, wait_processed
from test_ledger_api import rest

TOPICS = ("signals", "portfolio", "risk")


class Recorder:
    """An ADMIN socket subscribed (live) to the ledger topics, recording event ids per topic on
    a background thread so the server never sees a slow reader."""

    def __init__(self, gw, name: str):
        self.ws, _ = gw.session("ADMIN", name, max_queue=None)
        for n, topic in enumerate(TOPICS, start=1):
            answer = gw.subscribe(self.ws, topic, id=n)
            assert answer["type"] == "subscribed", answer
        self.ids: dict[str, list[str]] = {t: [] for t in TOPICS}
        self.types: dict[str, list[str]] = {t: [] for t in TOPICS}
        self.lock = threading.Lock()
        self.failure: str | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while True:
                frame = self.ws.recv(timeout=120)
                if frame.get("type") == "ping":
                    self.ws.send({"type": "pong"})
                elif frame.get("type") == "event":
                    with self.lock:
                        self.ids[frame["topic"]].append(frame["id"])
                        self.types[frame["topic"]].append(frame["data"]["event_type"])
        except (ConnectionClosed, TimeoutError, OSError) as exc:
            self.failure = repr(exc)

    def snapshot(self) -> dict[str, list[str]]:
        with self.lock:
            return {t: list(v) for t, v in self.ids.items()}

    def close(self) -> None:
        self.ws.close()


def stream_ids(gw) -> dict[str, list[str]]:
    with gw.redis() as r:
        return {t: [entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    for entry_id, _ in r.xrange(stream_key(t))] for t in TOPICS}


def differences(recorders: list[Recorder], expected: dict[str, list[str]]) -> list[str]:
    """How each recorder's ids differ from the streams' (empty when they all match)."""
    out = []
    for r in recorders:
        s = r.snapshot()
        for t in TOPICS:
            if s[t] != expected[t]:
                missing = sorted(set(expected[t]) - set(s[t]))
                extra = len(s[t]) - len(set(s[t]))
                out.append(f"{t}: {len(s[t])} received vs {len(expected[t])} in the stream; missing {missing[:5]}, "
                           f"duplicates {extra}, reader failure {r.failure}")
    return out


def wait_same(recorders: list[Recorder], gw, timeout: float = 30) -> dict[str, list[str]]:
    def expected_everywhere() -> dict[str, list[str]] | None:
        expected = stream_ids(gw)
        return expected if not differences(recorders, expected) else None

    return wait_until(expected_everywhere, timeout, "every client to have received exactly the streams' events",
                      interval=0.2, seen=lambda: differences(recorders, stream_ids(gw)))


def test_clients_on_either_gateway_see_every_ledger_event(start_gateway, redis_server, tmp_path):
    a, b = start_gateway(FAST), start_gateway(FAST)
    assert engine_wired(a) and engine_wired(b), "the live engine is not wired into bedrock serve"
    on_a, on_b = Recorder(a, "watch-a"), Recorder(b, "watch-b")
    try:
        csv = sample(tmp_path, 400, seed=3)
        assert replay(csv, redis_server.url, tmp_path).wait(60) == 0
        wait_processed(a, 400)

        # Writes through each gateway: a manual close on b, the kill switch on a, released on b.
        status, page = rest(b, "/v1/positions?status=OPEN", "VIEWER")
        assert status == 200, page
        if page["data"]:
            status, closed = rest(b, f"/v1/positions/{page['data'][0]['id']}/close", "TRADER", "POST")
            assert status == 200 and closed["status"] == "CLOSED", closed
        status, risk = rest(a, "/v1/risk/kill-switch", "ADMIN", "POST", {"enabled": True})
        assert status == 200 and risk["kill_switch"] is True, risk
        status, risk = rest(b, "/v1/risk/kill-switch", "ADMIN", "POST", {"enabled": False})
        assert status == 200 and risk["kill_switch"] is False, risk

        expected = wait_same([on_a, on_b], a)
        assert len(expected["signals"]) > 0 and len(expected["portfolio"]) > 0, expected
        assert len(expected["risk"]) >= 2, expected
        for recorder in (on_a, on_b):
            kinds = set(recorder.types["portfolio"])
            assert "portfolio.updated" in kinds and "position.closed" in kinds, kinds
            assert recorder.types["risk"][-2:] == ["risk.alert", "risk.alert"]

        # Both gateways answer the same ledger state.
        for path in ("/v1/account", "/v1/stats", "/v1/risk", "/v1/positions?limit=100", "/v1/signals?limit=100"):
            sa, body_a = rest(a, path)
            sb, body_b = rest(b, path)
            assert sa == sb == 200, (path, body_a, body_b)
            assert json.dumps(body_a, sort_keys=True) == json.dumps(body_b, sort_keys=True), path
    finally:
        on_a.close()
        on_b.close()
