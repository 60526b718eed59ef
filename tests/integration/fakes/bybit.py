"""A fake Bybit v5 spot exchange: REST market data and the public spot kline WebSocket, written
from the official v5 API documentation, field for field.

Sources (Bybit v5 API docs):
- Get Kline: https://bybit-exchange.github.io/docs/v5/market/kline (`GET /v5/market/kline`,
  `category`, `symbol`, `interval` 1 3 5 15 30 60 120 240 360 720 D W M, `start`, `end`, `limit`
  [1, 1000] default 200; `result.list` of string arrays `[startTime, openPrice, highPrice,
  lowPrice, closePrice, volume, turnover]` sorted in reverse by startTime, the forming candle
  included).
- Instruments info: https://bybit-exchange.github.io/docs/v5/market/instrument
- Server time: https://bybit-exchange.github.io/docs/v5/market/time
- Rate limit: https://bybit-exchange.github.io/docs/v5/rate-limit (`"retCode": 10006,
  "retMsg": "Too many visits!"`; headers `X-Bapi-Limit`, `X-Bapi-Limit-Status`,
  `X-Bapi-Limit-Reset-Timestamp`; HTTP 403 "access too frequent" for the IP limit).
- Error codes: https://bybit-exchange.github.io/docs/v5/error (10001 request parameter error,
  10006 too many visits).
- WebSocket connect / subscribe / heartbeat: https://bybit-exchange.github.io/docs/v5/ws/connect
  (public spot subscribe ack `{"success":true,"ret_msg":"subscribe","conn_id","req_id","op":
  "subscribe"}`, `{"op":"ping"}` answered `{"success":true,"ret_msg":"pong","conn_id","op":"ping"}`,
  at most 10 args per spot subscribe request).
- WebSocket kline: https://bybit-exchange.github.io/docs/v5/websocket/public/kline (topic
  `kline.{interval}.{symbol}`; `{"topic","data":[{"start","end","interval","open","close","high",
  "low","volume","turnover","confirm","timestamp"}],"ts","type":"snapshot"}`, `confirm` true once
  the candle has closed).

Differences from the real exchange, on purpose: the clock is the test's (`advance`), updates are
pushed when the clock moves (not every 1-60 s), failure `ret_msg` texts for bad subscriptions are
this fake's wording, and only the endpoints above exist.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from websockets.asyncio.server import ServerConnection

from .bars import DAY, MINUTE, Bar, Interval, plain
from .market import FakeMarketServer
from .server import HttpAnswer

INTERVALS = {
    "1": Interval(MINUTE), "3": Interval(3 * MINUTE), "5": Interval(5 * MINUTE), "15": Interval(15 * MINUTE),
    "30": Interval(30 * MINUTE), "60": Interval(60 * MINUTE), "120": Interval(120 * MINUTE),
    "240": Interval(240 * MINUTE), "360": Interval(360 * MINUTE), "720": Interval(720 * MINUTE),
    "D": Interval(DAY), "W": Interval(weekly=True), "M": Interval(monthly=True),
}

SPOT_WS_PATH = "/v5/public/spot"


class FakeBybit(FakeMarketServer):
    """Fake Bybit v5 spot. REST at `http_url` (the `https://api.bybit.com` of the docs), the
    public spot WebSocket at `ws_url + "/v5/public/spot"` (`spot_ws_url`)."""

    INTERVALS = INTERVALS
    CONTROL = {**FakeMarketServer.CONTROL, "force_rate_limit": {"seconds": int}, "force_ip_ban": {"seconds": int},
               "pings_received": {}, "answer_pings": {"answer": bool}}

    def __init__(self, *, limit_per_s: int = 20, **kwargs: Any):
        super().__init__(ping_interval_s=None, ping_timeout_s=None, **kwargs)
        self.limit_per_s = limit_per_s
        self._second = -1
        self._count = 0
        self._limited_until: int | None = None
        self._ip_ban_until: int | None = None
        self.conn_ids: dict[ServerConnection, str] = {}
        self.topics: dict[ServerConnection, list[str]] = {}
        self.pings = 0
        self._answer_pings = True

    @property
    def spot_ws_url(self) -> str:
        return self.ws_url + SPOT_WS_PATH

    # -- control API -------------------------------------------------------------------------

    def pings_received(self) -> int:
        """How many `{"op":"ping"}` messages clients have sent."""
        with self.lock:
            return self.pings

    def answer_pings(self, answer: bool = True) -> None:
        """Stops (or again starts) answering `{"op":"ping"}`: a connection that has gone silent."""
        with self.lock:
            self._answer_pings = answer

    def force_rate_limit(self, seconds: int) -> None:
        """Every REST call answers retCode 10006 for `seconds` of fake time."""
        with self.lock:
            self._limited_until = self.clock.now_ms() + seconds * 1000

    def force_ip_ban(self, seconds: int) -> None:
        """Every REST call answers HTTP 403 "access too frequent" for `seconds` of fake time."""
        with self.lock:
            self._ip_ban_until = self.clock.now_ms() + seconds * 1000

    # -- REST --------------------------------------------------------------------------------

    def _envelope(self, ret_code: int, ret_msg: str, result: dict, now: int) -> dict:
        return {"retCode": ret_code, "retMsg": ret_msg, "result": result, "retExtInfo": {}, "time": now}

    def rest(self, path: str, query: dict[str, str]) -> HttpAnswer:
        with self.lock:
            # "now" is read under the lock: a request read before a concurrent `force_*` took
            # it would otherwise be judged at a stale time (a 3 s ban answered `Retry-After: 4`).
            now = self.clock.now_ms()
            if self._ip_ban_until is not None and now < self._ip_ban_until:
                return HttpAnswer(403, "403 Forbidden: access too frequent")
            second = now // 1000
            if second != self._second:
                self._second, self._count = second, 0
            self._count += 1
            forced = self._limited_until is not None and now < self._limited_until
            over = forced or self._count > self.limit_per_s
            reset = (self._limited_until if forced else (second + 1) * 1000) if over else now
            headers = {"X-Bapi-Limit": str(self.limit_per_s),
                       "X-Bapi-Limit-Status": str(max(0, self.limit_per_s - self._count)),
                       "X-Bapi-Limit-Reset-Timestamp": str(reset)}
        if over:
            return HttpAnswer(200, self._envelope(10006, "Too many visits!", {}, now), headers)
        if path == "/v5/market/time":
            result = {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}
            return HttpAnswer(200, self._envelope(0, "OK", result, now), headers)
        if path == "/v5/market/instruments-info":
            return HttpAnswer(200, self.instruments(query, now), headers)
        if path == "/v5/market/kline":
            return HttpAnswer(200, self.klines(query, now), headers)
        return HttpAnswer(404, "404 page not found", headers)

    def klines(self, q: dict[str, str], now: int) -> dict:
        def error(msg: str) -> dict:
            return self._envelope(10001, msg, {}, now)
        category = q.get("category", "linear")
        symbol = q.get("symbol", "")
        interval = q.get("interval", "")
        if category != "spot":
            return error("Not supported category")
        if not symbol or not interval:
            return error("params error: symbol and interval are required")
        for name in ("start", "end", "limit"):
            if name in q and not q[name].isdigit():
                return error(f"params error: {name} invalid")
        if symbol not in self.symbols:
            return error("Not supported symbols")
        if interval not in INTERVALS:
            return error("Invalid period!")
        limit = int(q.get("limit", 200))
        if not 1 <= limit <= 1000:
            return error("params error: limit must be in [1, 1000]")
        grid = INTERVALS[interval]
        start = int(q["start"]) if "start" in q else None
        end = int(q["end"]) if "end" in q else now
        if start is not None:
            # the candle containing `start`, then later ones: the first `limit`
            first = grid.floor(start)
            last = grid.open_time(grid.index_of(first) + limit)
            bars = self.bars(symbol, interval, first, min(end, last))[:limit]
        else:
            lo = grid.open_time(grid.index_of(min(end, now)) - limit - 1)
            bars = self.bars(symbol, interval, lo, end)[-limit:]
        rows = [self.rest_row(symbol, interval, b) for b in reversed(bars)]
        rows = self.spoil(rows, self._take_rest_anomaly())
        return self._envelope(0, "OK", {"symbol": symbol, "category": "spot", "list": rows}, now)

    def rest_row(self, symbol: str, interval: str, b: Bar) -> list[str]:
        o = self.overrides_for(symbol, interval, b.open_time)
        return [str(b.open_time), o.get("open", plain(b.open)), o.get("high", plain(b.high)),
                o.get("low", plain(b.low)), o.get("close", plain(b.close)), o.get("volume", plain(b.volume)),
                plain(b.quote_volume)]

    def instruments(self, q: dict[str, str], now: int) -> dict:
        if q.get("category") != "spot":
            return self._envelope(0, "OK", {"category": q.get("category", ""), "list": [], "nextPageCursor": ""}, now)
        wanted = q.get("symbol")
        items = []
        for sym, (base, quote) in self.symbols.items():
            if wanted and wanted != sym:
                continue
            items.append({
                "symbol": sym, "baseCoin": base, "quoteCoin": quote, "innovation": "0", "status": "Trading",
                "marginTrading": "none", "stTag": "0",
                "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.00000001",
                                  "minOrderQty": "0.000048", "maxOrderQty": "71.73956243",
                                  "minOrderAmt": "1", "maxOrderAmt": "2000000"},
                "priceFilter": {"tickSize": "0.01"},
                "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            })
        return self._envelope(0, "OK", {"category": "spot", "list": items}, now)

    # -- WebSocket ---------------------------------------------------------------------------

    def accepts_websocket(self, path: str, query: dict[str, str]) -> bool:
        return path == SPOT_WS_PATH

    def opened(self, connection: ServerConnection, path: str, query: dict[str, str]) -> None:
        with self.lock:
            self.conn_ids[connection] = str(uuid.uuid4())

    async def websocket(self, connection: ServerConnection, path: str, query: dict[str, str]) -> None:
        async for message in connection:
            reply = self._op(connection, message)
            if reply is not None:
                await connection.send(json.dumps(reply, separators=(",", ":")))

    def _topic_key(self, topic: str) -> tuple[str, str] | None:
        parts = topic.split(".")
        if len(parts) != 3 or parts[0] != "kline" or parts[1] not in INTERVALS or parts[2] not in self.symbols:
            return None
        return parts[2], parts[1]

    def _op(self, conn: ServerConnection, message: str | bytes) -> dict | None:
        with self.lock:
            cid = self.conn_ids.get(conn, "")
        try:
            req = json.loads(message)
        except ValueError:
            req = None
        if not isinstance(req, dict):
            return {"success": False, "ret_msg": "error:request not a json object", "conn_id": cid, "op": ""}
        op = req.get("op")
        rid = req.get("req_id")

        def ack(success: bool, ret_msg: str) -> dict:
            out: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": cid}
            if rid is not None:
                out["req_id"] = rid
            out["op"] = op
            return out

        if op == "ping":
            with self.lock:
                self.pings += 1
                if not self._answer_pings:
                    return None
            return {"success": True, "ret_msg": "pong", "conn_id": cid, "op": "ping"}
        if op in ("subscribe", "unsubscribe"):
            args = req.get("args")
            if not isinstance(args, list) or not args:
                return ack(False, "error:args invalid")
            if len(args) > 10:
                return ack(False, "error:args size >10")
            keys = [self._topic_key(str(a)) for a in args]
            bad = [a for a, k in zip(args, keys) if k is None]
            if bad:
                return ack(False, f"Invalid topic :[{','.join(map(str, bad))}]")
            with self.lock:
                subs = self.subscriptions.setdefault(conn, set())
                topics = self.topics.setdefault(conn, [])
                for a, k in zip(args, keys):
                    if op == "subscribe":
                        subs.add(k)
                        if a not in topics:
                            topics.append(a)
                    else:
                        subs.discard(k)
                        if a in topics:
                            topics.remove(a)
            return ack(True, op)
        return ack(False, f"error:op {op} not supported")

    def forget(self, connection: ServerConnection) -> None:
        super().forget(connection)
        self.conn_ids.pop(connection, None)
        self.topics.pop(connection, None)

    def kline_message(self, symbol: str, interval: str, bar: Bar, event_ms: int) -> dict:
        o = self.overrides_for(symbol, interval, bar.open_time)
        last_trade = min(event_ms, bar.close_time)
        return {
            "topic": f"kline.{interval}.{symbol}",
            "data": [{
                "start": bar.open_time, "end": bar.close_time, "interval": interval,
                "open": o.get("open", plain(bar.open)), "close": o.get("close", plain(bar.close)),
                "high": o.get("high", plain(bar.high)), "low": o.get("low", plain(bar.low)),
                "volume": o.get("volume", plain(bar.volume)), "turnover": plain(bar.quote_volume),
                "confirm": bar.closed, "timestamp": last_trade,
            }],
            "ts": event_ms,
            "type": "snapshot",
        }

    def encode(self, connection: ServerConnection, symbol: str, interval: str, message: dict) -> str:
        return json.dumps(message, separators=(",", ":"))
