"""Entries trimmed before the gateway could read them are announced with a `gap` frame
(docs/PROTOCOL.md): every entry a producer appends reaches each live subscriber or lies strictly
inside a gap it was told about, in order, at any trim rate. The live engine raises `risk.alert`
`MARKET_DATA_GAP` for the same hole in a kline stream."""

from __future__ import annotations

import json
import subprocess
import threading
import time

from helpers import BEDROCK_BIN, stream_key, wait_until
from resp import Redis

TOPIC = "signals"


def id_key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def event(n: int) -> str:
    return json.dumps({"event_type": "signal.created", "schema_version": "2.0", "n": n}, separators=(",", ":"))


def xadds(key: str, first: int, count: int, maxlen: int) -> list[tuple]:
    return [("XADD", key, "MAXLEN", "~", maxlen, "*", "event", event(first + i)) for i in range(count)]


class Reader(threading.Thread):
    """Reads a subscriber's frames until the sentinel entry (`n` = -1) arrives."""

    def __init__(self, ws):
        super().__init__(daemon=True)
        self.ws, self.frames, self.error = ws, [], None

    def run(self) -> None:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                f = self.ws.recv(deadline - time.monotonic())
                if f.get("type") in ("event", "gap"):
                    self.frames.append(f)
                if f.get("type") == "event" and f["data"].get("n") == -1:
                    return
            self.error = "sentinel not received within 60 s"
        except Exception as e:  # noqa: BLE001 — reported by the test
            self.error = repr(e)


def check_no_silent_hole(frames: list[dict], position: str, added: list[str]) -> tuple[int, int]:
    """Every id of `added` was delivered or lies strictly inside an announced gap; each gap's
    `after` is the last id delivered before it (or the subscribe position) and `next` the id of
    the event that follows. Returns (delivered, gaps)."""
    last = position
    delivered: set[str] = set()
    holes: list[tuple[str, str]] = []
    for i, f in enumerate(frames):
        if f["type"] == "gap":
            assert f["topic"] == TOPIC, f
            assert f["after"] == last, f"gap after {f['after']} but the last event delivered was {last}"
            following = next((g for g in frames[i + 1:] if g["type"] == "event"), None)
            assert following is not None and following["id"] == f["next"], (f, following)
            assert id_key(f["after"]) < id_key(f["next"]), f
            holes.append((f["after"], f["next"]))
        else:
            assert id_key(f["id"]) > id_key(last), f"out of order: {f['id']} after {last}"
            last = f["id"]
            delivered.add(f["id"])
    silent = [a for a in added
              if a not in delivered and not any(id_key(x) < id_key(a) < id_key(y) for x, y in holes)]
    assert not silent, (f"{len(silent)} of {len(added)} entries neither delivered nor inside a gap "
                        f"(first {silent[:3]}); {len(delivered)} delivered, {len(holes)} gaps")
    return len(delivered), len(holes)


def test_trimming_faster_than_the_bridge_reads_is_announced_to_every_subscriber(gateway):
    key = stream_key(TOPIC)
    sessions = [gateway.session("VIEWER", f"v{i}")[0] for i in range(2)]
    readers = []
    try:
        positions = []
        for ws in sessions:
            sub = gateway.subscribe(ws, TOPIC)
            assert sub["type"] == "subscribed", sub
            positions.append(sub["position"])
            readers.append(Reader(ws))
        for r in readers:
            r.start()
        added: list[str] = []
        with Redis(port=int(gateway.redis_url.rsplit(":", 1)[1])) as r:
            n = 0
            for _ in range(3):
                # Delivered normally: a few entries, each read before the next.
                for _ in range(5):
                    added.append(r.xadd(key, event(n), maxlen=10))
                    n += 1
                time.sleep(0.05)
                # A burst inside MULTI: no read can come between its XADDs, so the stream is
                # trimmed far past the bridge's cursor before it reads again — a certain hole.
                replies = r.pipeline([("MULTI",), *xadds(key, n, 2000, 10), ("EXEC",)])
                added += replies[-1]
                n += 2000
                time.sleep(0.05)
            # A fast pipelined producer (no transaction) trimming to ~10.
            for _ in range(4):
                added += r.pipeline(xadds(key, n, 5000, 10))
                n += 5000
            added.append(r.xadd(key, event(-1), maxlen=10))
        for reader in readers:
            reader.join(65)
        for reader, position in zip(readers, positions):
            assert reader.error is None, f"{reader.error}; got {reader.frames[-3:]}"
            delivered, gaps = check_no_silent_hole(reader.frames, position, added)
            assert gaps >= 3, f"only {gaps} gaps announced for three certain holes"
            assert delivered < len(added)
    finally:
        for ws in sessions:
            ws.close()


def test_an_xdel_of_a_delivered_entry_announces_nothing(gateway):
    ws, _ = gateway.session("VIEWER", "v")
    try:
        assert gateway.subscribe(ws, TOPIC)["type"] == "subscribed"
        first = gateway.xadd(TOPIC, {"event_type": "signal.created", "n": 1})
        assert ws.expect("event")["id"] == first
        with gateway.redis() as r:
            assert r.execute("XDEL", stream_key(TOPIC), first) == 1
        second = gateway.xadd(TOPIC, {"event_type": "signal.created", "n": 2})
        f = ws.expect(lambda f: f.get("type") in ("event", "gap"))
        assert f["type"] == "event" and f["id"] == second, f
    finally:
        ws.close()


def test_watch_prints_the_gap_and_says_to_reload(gateway):
    tok = gateway.token("VIEWER", "watcher")
    proc = subprocess.Popen([str(BEDROCK_BIN), "watch", "--url", gateway.ws_url(), "--token", tok,
                             "--topic", TOPIC], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    out: list[str] = []
    err: list[str] = []
    for stream, sink in ((proc.stdout, out), (proc.stderr, err)):
        threading.Thread(target=lambda s=stream, k=sink: k.extend(iter(s.readline, "")), daemon=True).start()
    try:
        wait_until(lambda: any("subscribed to" in line for line in err), 15, "`bedrock watch` to subscribe",
                   seen=lambda: err[-3:])
        with gateway.redis() as r:
            first = r.xadd(stream_key(TOPIC), event(0), maxlen=10)
            wait_until(lambda: any(first in line for line in out), 10, "the first event", seen=lambda: out[-3:])
            ids = r.pipeline([("MULTI",), *xadds(stream_key(TOPIC), 1, 2000, 10), ("EXEC",)])[-1]
        wait_until(lambda: any(ids[-1] in line for line in out), 10, "the last event", seen=lambda: out[-3:])
        frames = [json.loads(line) for line in out]
        gaps = [f for f in frames if f["type"] == "gap"]
        assert len(gaps) == 1 and gaps[0]["after"] == first, frames[:3]
        after_gap = frames[frames.index(gaps[0]) + 1]
        assert after_gap["type"] == "event" and after_gap["id"] == gaps[0]["next"], after_gap
        # The note goes to stderr, read by its own thread: it may land after the last event.
        note = wait_until(lambda: [line for line in err if "GAP" in line], 10, "the gap note on stderr",
                          seen=lambda: err[-3:])
        assert first in note[0] and "reload" in note[0], err
    finally:
        proc.terminate()
        proc.wait(10)


MARKET, INTERVAL = "BTCUSDT", "1m"


def kline(n: int) -> str:
    t = 1_700_000_000_000 + n * 60_000
    return json.dumps({"event_type": "kline.closed", "schema_version": "2.0", "market": MARKET,
                       "interval": INTERVAL, "open_time": t, "open": 100, "high": 101, "low": 99,
                       "close": 100.5, "volume": 1}, separators=(",", ":"))


def test_engine_raises_market_data_gap_when_bars_are_trimmed_unread(start_gateway):
    gw = start_gateway({"engine": {"discover_interval_ms": 100, "lease_ms": 1000, "strategies": ["pullback"]}})
    key = stream_key(f"klines:{MARKET}:{INTERVAL}")
    with gw.redis() as r:
        first = r.xadd(key, kline(0), maxlen=10)

        def processed() -> bool:
            groups = r.execute("XINFO", "GROUPS", key)
            return any(dict(zip(g[0::2], g[1::2])).get("last-delivered-id") == first for g in groups)

        wait_until(processed, 30, "the engine to read the first bar", interval=0.1, seen=gw.log_text)
        # Bars trimmed before the engine could read them: one transaction, so no read in between.
        replies = r.pipeline([("MULTI",), *[("XADD", key, "MAXLEN", "~", 10, "*", "event", kline(i))
                                            for i in range(1, 3001)], ("EXEC",)])
        ids = replies[-1]

        def alert():
            for _, fields in r.xrange(stream_key("risk")):
                ev = json.loads(fields["event"])
                if ev.get("action") == "MARKET_DATA_GAP":
                    return ev
            return None

        ev = wait_until(alert, 30, "risk.alert MARKET_DATA_GAP", interval=0.1, seen=gw.log_text)
    assert ev["event_type"] == "risk.alert", ev
    assert ev["market"] == MARKET and ev["interval"] == INTERVAL, ev
    assert ev["after"] == first, ev
    assert ev["next"] in ids and id_key(ev["next"]) > id_key(ids[0]), ev
    assert [r["code"] for r in ev["reasons"]] == ["MARKET_DATA_GAP"], ev


def test_dashboard_reloads_the_signals_it_missed_on_a_gap(start_gateway, browser):
    from test_dashboard import ENGINE_OFF, record_signal, signal_row
    from test_ledger_api import LUA, PREFIX as LEDGER_PREFIX, signal  # noqa: F401

    gw = start_gateway(ENGINE_OFF)
    first = record_signal(gw, "2026-01-03T00:00:00Z", 300)
    browser.open(gw)
    browser.sign_in("TRADER")
    browser.go("signals")
    signal_row(browser, first)
    # A signal recorded in the same transaction as a flood that trims its signal.created event away
    # before the gateway can read it: only the gap frame can make the page show it.
    source = (LUA / "common.lua").read_text() + "\n" + (LUA / "record_signal.lua").read_text()
    now_ms = int(time.time() * 1000)
    request = json.dumps(signal("BTCUSDT", "2026-01-03T01:00:00Z", 301))
    noise = [("XADD", stream_key(TOPIC), "MAXLEN", "~", 10, "*", "event",
              json.dumps({"event_type": "test.noise", "n": i})) for i in range(2000)]
    with gw.redis() as r:
        replies = r.pipeline([("MULTI",), ("EVAL", source, 0, LEDGER_PREFIX, 10000, "2026-01-03T01:00:00.000Z",
                                          now_ms, request, "100000"), *noise, ("EXEC",)])
    missed = json.loads(replies[-1][0])["id"]
    signal_row(browser, missed, timeout=20)
    browser.assert_no_console_errors()
