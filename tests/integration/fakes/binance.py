"""A fake Binance spot exchange: REST market data and the kline WebSocket streams, written from
the official API documentation, field for field.

Sources (Binance Spot API docs):
- REST klines: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
  (`GET /api/v3/klines`, weight 2, limit default 500 max 1000; rows
  `[openTime, "open", "high", "low", "close", "volume", closeTime, "quoteAssetVolume",
  numberOfTrades, "takerBuyBaseAssetVolume", "takerBuyQuoteAssetVolume", "0"]`, oldest first,
  the current forming kline last).
- General endpoints (`/api/v3/ping`, `/api/v3/time`, `/api/v3/exchangeInfo`):
  https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints
- Limits: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
  (`X-MBX-USED-WEIGHT-1M` on every answer, 429 with `Retry-After` past the weight limit, 418 with
  `Retry-After` — an IP ban — for a client that keeps sending after a 429).
- Errors: https://developers.binance.com/docs/binance-spot-api-docs/errors
  (`{"code":-1121,"msg":"Invalid symbol."}`, -1120 invalid interval, -1003 too many requests).
- Streams: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
  (`/ws/<symbol>@kline_<interval>`, `/stream?streams=a/b` wrapped as `{"stream","data"}`,
  SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS requests, a ping frame every 20 s and a
  disconnect when no pong comes within a minute; kline events
  `{"e":"kline","E","s","k":{"t","T","s","i","f","L","o","c","h","l","v","n","x","q","V","Q","B"}}`).

Differences from the real exchange, on purpose: the clock is the test's (`advance`), updates are
pushed when the clock moves (not every 2 s), and only the endpoints above exist.
"""

from __future__ import annotations

import json
import math
from typing import Any

from websockets.asyncio.server import ServerConnection

from .bars import DAY, HOUR, MINUTE, Bar, Interval, fixed
from .market import FakeMarketServer
from .server import HttpAnswer

INTERVALS = {
    "1s": Interval(1000), "1m": Interval(MINUTE), "3m": Interval(3 * MINUTE), "5m": Interval(5 * MINUTE),
    "15m": Interval(15 * MINUTE), "30m": Interval(30 * MINUTE), "1h": Interval(HOUR), "2h": Interval(2 * HOUR),
    "4h": Interval(4 * HOUR), "6h": Interval(6 * HOUR), "8h": Interval(8 * HOUR), "12h": Interval(12 * HOUR),
    "1d": Interval(DAY), "3d": Interval(3 * DAY), "1w": Interval(weekly=True), "1M": Interval(monthly=True),
}

WEIGHTS = {"/api/v3/klines": 2, "/api/v3/exchangeInfo": 20, "/api/v3/ping": 1, "/api/v3/time": 1}


def _error(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> HttpAnswer:
    return HttpAnswer(status, {"code": code, "msg": msg}, headers)


class FakeBinance(FakeMarketServer):
    """Fake Binance spot. REST at `http_url` (the `https://api.binance.com` of the docs),
    WebSocket at `ws_url` (the `wss://stream.binance.com:9443` of the docs)."""

    INTERVALS = INTERVALS
    CONTROL = {**FakeMarketServer.CONTROL, "force_429": {"retry_after_s": int},
               "force_418": {"retry_after_s": int}, "fail_rest": {"status": int, "times": int},
               "used_weight": {}, "ping_all": {}}

    def __init__(self, *, weight_limit: int = 6000, ban_s: int = 120, ping_interval_s: float | None = 20,
                 ping_timeout_s: float | None = 60, **kwargs: Any):
        super().__init__(ping_interval_s=ping_interval_s, ping_timeout_s=ping_timeout_s, **kwargs)
        self.weight_limit = weight_limit
        self.ban_s = ban_s
        self._window = -1
        self._used = 0
        self._backoff_until: int | None = None   # after a 429: sending before this earns a 418
        self._ban_until: int | None = None       # a 418 ban is on until this
        self._forced_429: int | None = None      # Retry-After (s) for the next request
        self._failing: tuple[int, int] = (503, 0)  # (status, REST requests left to fail)
        self.combined: dict[ServerConnection, bool] = {}
        self.stream_names: dict[ServerConnection, list[str]] = {}

    # -- control API -------------------------------------------------------------------------

    def force_429(self, retry_after_s: int) -> None:
        """The next REST request gets 429 with `Retry-After: retry_after_s`; one sent before that
        time has passed (on the fake clock) gets a 418 ban."""
        with self.lock:
            self._forced_429 = retry_after_s

    def force_418(self, retry_after_s: int) -> None:
        """Bans now: every REST request gets 418 until `retry_after_s` have passed."""
        with self.lock:
            self._ban_until = self.clock.now_ms() + retry_after_s * 1000

    def fail_rest(self, status: int = 503, times: int = 1) -> None:
        """The next `times` REST requests fail with HTTP `status` (500-599) and Binance's
        `-1001` "Internal error" body, as its servers answer an internal failure; `times=0`
        ends a failure set earlier."""
        if not 500 <= status <= 599 or times < 0:
            raise ValueError("fail_rest needs a 5xx status and times >= 0")
        with self.lock:
            self._failing = (status, times)

    def used_weight(self) -> int:
        """Weight used in the current minute (what `X-MBX-USED-WEIGHT-1M` says)."""
        with self.lock:
            return self._used if self._window == self.clock.now_ms() // MINUTE else 0

    def ping_all(self, payload: bytes = b"fake-binance") -> int:
        """Sends a ping frame now to every connection; returns how many answered with a pong."""
        async def ping():
            import asyncio
            waiters = []
            for c in list(self.connections):
                try:
                    waiters.append(await c.ping(payload))
                except Exception:
                    pass
            done = await asyncio.gather(*(asyncio.wait_for(w, 5) for w in waiters), return_exceptions=True)
            return sum(1 for d in done if not isinstance(d, BaseException))
        return self.call(ping)

    # -- REST --------------------------------------------------------------------------------

    def rest(self, path: str, query: dict[str, str]) -> HttpAnswer:
        with self.lock:
            status, left = self._failing
            if left > 0:
                self._failing = (status, left - 1)
                return _error(status, -1001, "Internal error; unable to process your request. Please try again.")
            # "now" is read under the lock: a request read before a concurrent `force_*` took
            # it would otherwise be judged at a stale time (a 3 s ban answered `Retry-After: 4`).
            now = self.clock.now_ms()
            window = now // MINUTE
            if window != self._window:
                self._window, self._used = window, 0
            if self._ban_until is not None and now < self._ban_until:
                wait = math.ceil((self._ban_until - now) / 1000)
                return _error(418, -1003, f"Way too much request weight used; IP banned until {self._ban_until}. "
                              "Please use WebSocket Streams for live updates to avoid bans.",
                              {"Retry-After": str(wait), "X-MBX-USED-WEIGHT-1M": str(self._used)})
            if self._backoff_until is not None and now < self._backoff_until:
                self._ban_until = now + self.ban_s * 1000
                self._backoff_until = None
                return _error(418, -1003, f"Way too much request weight used; IP banned until {self._ban_until}. "
                              "Please use WebSocket Streams for live updates to avoid bans.",
                              {"Retry-After": str(self.ban_s), "X-MBX-USED-WEIGHT-1M": str(self._used)})
            self._used += WEIGHTS.get(path, 1)
            used = {"X-MBX-USED-WEIGHT-1M": str(self._used)}
            retry = None
            if self._forced_429 is not None:
                retry, self._forced_429 = self._forced_429, None
            elif self._used > self.weight_limit:
                retry = math.ceil(((window + 1) * MINUTE - now) / 1000)
            if retry is not None:
                self._backoff_until = now + retry * 1000
                return _error(429, -1003, f"Too much request weight used; current limit is {self.weight_limit} "
                              "request weight per 1 MINUTE. Please use WebSocket Streams for live updates to "
                              "avoid polling the API.", {"Retry-After": str(retry), **used})
        if path == "/api/v3/ping":
            return HttpAnswer(200, {}, used)
        if path == "/api/v3/time":
            return HttpAnswer(200, {"serverTime": now}, used)
        if path == "/api/v3/exchangeInfo":
            return HttpAnswer(200, self.exchange_info(now), used)
        if path == "/api/v3/klines":
            answer = self.klines(query, now)
            answer.headers.update(used)
            return answer
        return HttpAnswer(404, "<html><body><h2>404 Not found</h2></body></html>", used)

    def klines(self, q: dict[str, str], now: int) -> HttpAnswer:
        symbol = q.get("symbol", "")
        if not symbol:
            return _error(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        if "interval" not in q or not q["interval"]:
            return _error(400, -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.")
        for name in ("startTime", "endTime", "limit"):
            if name in q and not q[name].isdigit():
                return _error(400, -1100, f"Illegal characters found in parameter '{name}'; "
                              "legal range is '^[0-9]{1,20}$'.")
        if symbol not in self.symbols:
            return _error(400, -1121, "Invalid symbol.")
        interval = q["interval"]
        if interval not in INTERVALS:
            return _error(400, -1120, "Invalid interval.")
        limit = min(int(q.get("limit", 500)), 1000)
        if limit < 1:
            return _error(400, -1100, "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.")
        start = int(q["startTime"]) if "startTime" in q else None
        end = int(q["endTime"]) if "endTime" in q else None
        if start is not None and end is not None and start > end:
            return _error(400, -1023, "Start time is greater than end time.")
        grid = INTERVALS[interval]
        if start is not None:
            # open times from startTime on; enough of them for `limit` rows
            hi = end if end is not None else now
            last = grid.open_time(grid.index_of(start) + limit + 1)
            bars = self.bars(symbol, interval, start, min(hi, last))[:limit]
        else:
            hi = end if end is not None else now
            lo = grid.open_time(grid.index_of(min(hi, now)) - limit - 1)
            bars = self.bars(symbol, interval, lo, hi)[-limit:]
        rows = [self.rest_row(symbol, interval, b) for b in bars]
        return HttpAnswer(200, self.spoil(rows, self._take_rest_anomaly()))

    def rest_row(self, symbol: str, interval: str, b: Bar) -> list:
        o = self.overrides_for(symbol, interval, b.open_time)
        return [b.open_time, o.get("open", fixed(b.open)), o.get("high", fixed(b.high)), o.get("low", fixed(b.low)),
                o.get("close", fixed(b.close)), o.get("volume", fixed(b.volume)), b.close_time,
                fixed(b.quote_volume), b.trades, fixed(b.taker_buy_volume), fixed(b.taker_buy_quote_volume), "0"]

    def exchange_info(self, now: int) -> dict:
        symbols = []
        for sym, (base, quote) in self.symbols.items():
            symbols.append({
                "symbol": sym, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8,
                "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True,
                "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True, "cancelReplaceAllowed": True,
                "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
                     "tickSize": "0.01000000"},
                    {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000",
                     "stepSize": "0.00001000"},
                    {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
                     "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                ],
                "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            })
        return {
            "timezone": "UTC", "serverTime": now,
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [], "symbols": symbols,
        }

    # -- WebSocket ---------------------------------------------------------------------------

    def accepts_websocket(self, path: str, query: dict[str, str]) -> bool:
        return path == "/stream" or path == "/ws" or path.startswith("/ws/")

    def _kline_key(self, stream: str) -> tuple[str, str] | None:
        symbol, _, kind = stream.partition("@kline_")
        if not kind or symbol != symbol.lower():
            return None
        sym = symbol.upper()
        if sym not in self.symbols or kind not in INTERVALS:
            return None
        return sym, kind

    def _subscribe(self, conn: ServerConnection, streams: list[str]) -> None:
        with self.lock:
            names = self.stream_names.setdefault(conn, [])
            keys = self.subscriptions.setdefault(conn, set())
            for s in streams:
                if s not in names:
                    names.append(s)
                key = self._kline_key(s)
                if key:
                    keys.add(key)

    def _unsubscribe(self, conn: ServerConnection, streams: list[str]) -> None:
        with self.lock:
            names = self.stream_names.setdefault(conn, [])
            keys = self.subscriptions.setdefault(conn, set())
            for s in streams:
                if s in names:
                    names.remove(s)
                key = self._kline_key(s)
                if key:
                    keys.discard(key)

    def opened(self, connection: ServerConnection, path: str, query: dict[str, str]) -> None:
        combined = path == "/stream"
        with self.lock:
            self.combined[connection] = combined
        if combined:
            streams = [s for s in query.get("streams", "").split("/") if s]
        else:
            streams = [s for s in path[len("/ws"):].split("/") if s]
        self._subscribe(connection, streams)

    async def websocket(self, connection: ServerConnection, path: str, query: dict[str, str]) -> None:
        async for message in connection:
            reply = self._method(connection, message)
            if reply is not None:
                await connection.send(json.dumps(reply, separators=(",", ":")))

    def _method(self, conn: ServerConnection, message: str | bytes) -> dict | None:
        try:
            req = json.loads(message)
        except ValueError:
            return {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}
        if not isinstance(req, dict):
            return {"code": 2, "msg": "Invalid request: request must be an object"}
        rid = req.get("id")
        method = req.get("method")
        params = req.get("params", [])
        if method == "SUBSCRIBE" and isinstance(params, list):
            self._subscribe(conn, [str(p) for p in params])
            return {"result": None, "id": rid}
        if method == "UNSUBSCRIBE" and isinstance(params, list):
            self._unsubscribe(conn, [str(p) for p in params])
            return {"result": None, "id": rid}
        if method == "LIST_SUBSCRIPTIONS":
            with self.lock:
                return {"result": list(self.stream_names.get(conn, [])), "id": rid}
        return {"code": 2, "msg": f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
                "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`", "id": rid}

    def forget(self, connection: ServerConnection) -> None:
        super().forget(connection)
        self.combined.pop(connection, None)
        self.stream_names.pop(connection, None)

    def kline_message(self, symbol: str, interval: str, bar: Bar, event_ms: int) -> dict:
        o = self.overrides_for(symbol, interval, bar.open_time)
        return {
            "e": "kline", "E": event_ms, "s": symbol,
            "k": {
                "t": bar.open_time, "T": bar.close_time, "s": symbol, "i": interval,
                "f": bar.first_trade_id if bar.trades else -1, "L": bar.last_trade_id,
                "o": o.get("open", fixed(bar.open)), "c": o.get("close", fixed(bar.close)),
                "h": o.get("high", fixed(bar.high)), "l": o.get("low", fixed(bar.low)),
                "v": o.get("volume", fixed(bar.volume)), "n": bar.trades, "x": bar.closed,
                "q": fixed(bar.quote_volume), "V": fixed(bar.taker_buy_volume),
                "Q": fixed(bar.taker_buy_quote_volume), "B": "0",
            },
        }

    def encode(self, connection: ServerConnection, symbol: str, interval: str, message: dict) -> str:
        with self.lock:
            combined = self.combined.get(connection, False)
        if combined:
            message = {"stream": f"{symbol.lower()}@kline_{interval}", "data": message}
        return json.dumps(message, separators=(",", ":"))
