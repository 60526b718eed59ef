"""A client that follows one topic across gateways, as a real one does in a rolling update or
after a crash: when its socket closes it connects again (to the next URL it is given) and
subscribes with `since` = the last event id it saw, then checks nothing was lost or repeated.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from websockets.sync.client import connect as ws_connect

from helpers import SUBPROTOCOL, WS, ConnectionClosed

Urls = Callable[[int], str]  # attempt number → WebSocket URL (with its token)


class Follower:
    """Follows `topic` over `url(attempt)`; `events` holds (id, data) in arrival order."""

    def __init__(self, url: Urls, topic: str):
        self.url = url
        self.topic = topic
        self.events: list[tuple[str, dict]] = []
        self.closes: list[int | None] = []  # close code of each socket that ended
        self.errors: list[dict] = []  # error frames (a drain must send none)
        self.recovered: list[bool] = []  # `recovered` of each subscribe with since
        self.sessions = 0
        self.failure: BaseException | None = None
        self.ws: WS | None = None

    @property
    def last_id(self) -> str | None:
        return self.events[-1][0] if self.events else None

    def connect(self, timeout: float = 15.0) -> None:
        """Connects (retrying while no gateway takes it) and subscribes, with `since` after the first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = ws_connect(self.url(self.sessions), subprotocols=[SUBPROTOCOL], compression=None,
                                  proxy=None, open_timeout=5, close_timeout=3, ping_interval=None,
                                  max_size=None, max_queue=None)
                break
            except (OSError, Exception) as e:  # refused, 502/503 while nginx learns, reset
                if time.monotonic() > deadline:
                    raise AssertionError(f"no gateway took the connection within {timeout}s: {e!r}")
                time.sleep(0.1)
        self.ws = WS(conn)
        self.sessions += 1
        self.ws.expect("welcome", 10)
        msg: dict = {"type": "subscribe", "id": 1, "topic": self.topic}
        if self.last_id is not None:
            msg["since"] = self.last_id
        self.ws.send(msg)
        answer = self.ws.expect(lambda f: f.get("type") in ("subscribed", "error") and f.get("id") == 1, 10,
                                skip=lambda f: f.get("type") == "event")
        assert answer["type"] == "subscribed", answer
        if "since" in msg:
            self.recovered.append(answer["recovered"])

    def read(self, until: Callable[["Follower"], bool], timeout: float) -> None:
        """Reads events (reconnecting whenever the socket closes) until `until(self)` or the timeout."""
        deadline = time.monotonic() + timeout
        while not until(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.topic}: condition not met within {timeout}s; last id {self.last_id}")
            if self.ws is None:
                self.connect()
            try:
                f = self.ws.recv(0.2)
            except TimeoutError:
                continue
            except ConnectionClosed as e:
                self.closes.append(e.rcvd.code if e.rcvd is not None else None)
                self.ws = None
                continue
            if f.get("type") == "event" and f.get("topic") == self.topic:
                self.events.append((f["id"], f["data"]))
            elif f.get("type") == "error":
                self.errors.append(f)

    def start(self, until: Callable[["Follower"], bool], timeout: float) -> threading.Thread:
        """`read` on a thread of its own; a failure is kept in `failure`."""

        def run() -> None:
            try:
                self.read(until, timeout)
            except BaseException as e:  # noqa: BLE001 - reported by the test
                self.failure = e

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


class Publisher:
    """Appends `count` numbered events to a topic's stream on its own thread, `interval` apart."""

    def __init__(self, xadd: Callable[[str, dict], str], topic: str, count: int, interval: float):
        self.ids: list[str] = []
        self.done = threading.Event()

        def run() -> None:
            for n in range(count):
                self.ids.append(xadd(topic, {"event_type": "signal.created", "n": n}))
                time.sleep(interval)
            self.done.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def all_seen_by(self, follower: Follower) -> bool:
        return self.done.is_set() and follower.last_id == self.ids[-1]


def assert_every_event_once(follower: Follower, published: list[str]) -> None:
    """Every published event, in order, once: no gap, no duplicate."""
    got = [i for i, _ in follower.events]
    assert len(got) == len(set(got)), f"duplicates: {len(got) - len(set(got))}"
    assert got == published, (f"{len(published)} published, {len(got)} seen; first difference at "
                              f"{next((k for k, (a, b) in enumerate(zip(got, published)) if a != b), min(len(got), len(published)))}")
    assert [d["n"] for _, d in follower.events] == list(range(len(published)))
