import JSONCodec

/// Bybit v5 spot kline payloads, field for field from the official documentation:
/// - REST `GET /v5/market/kline`: `{"retCode":0,"retMsg":"OK","result":{"symbol","category",
///   "list":[["startTime","open","high","low","close","volume","turnover"], ...]},"retExtInfo":{},
///   "time":N}`, the list newest first, every column a string
///   (https://bybit-exchange.github.io/docs/v5/market/kline); `retCode` ≠ 0 is an error, 10006
///   the rate limit (https://bybit-exchange.github.io/docs/v5/error);
/// - WebSocket `kline.<interval>.<SYMBOL>` pushes `{"topic","data":[{"start","end","interval",
///   "open","close","high","low","volume","turnover","confirm","timestamp"}],"ts","type"}`
///   (https://bybit-exchange.github.io/docs/v5/websocket/public/kline), and the answers
///   `{"success","ret_msg","conn_id","req_id"?,"op":"subscribe"}` and, to `{"op":"ping"}`,
///   `{"success":true,"ret_msg":"pong","conn_id","op":"ping"}` (or, on some channels,
///   `{"req_id","op":"pong","args":[ms],"conn_id"}`)
///   (https://bybit-exchange.github.io/docs/v5/ws/connect).
public enum BybitKlines {
    /// Largest `limit` of one klines page.
    public static let maxLimit = 1000
    /// The heartbeat the documentation asks for: `{"op":"ping"}` every 20 s.
    public static let pingIntervalSeconds = 20.0
    /// The heartbeat frame.
    public static let pingFrame = #"{"op":"ping"}"#

    /// One message of the public spot WebSocket.
    public enum StreamMessage: Sendable, Equatable {
        /// The klines of one push (usually one), in the order sent.
        case klines([ExchangeKline])
        /// The answer to a subscribe: `success` false names the refusal in `message`.
        case subscribed(success: Bool, message: String)
        /// The answer to `{"op":"ping"}`.
        case pong
    }

    /// The topic of `symbol`'s klines (`kline.60.BTCUSDT`), or `UnsupportedInterval`.
    public static func topic(symbol: String, interval: KlineInterval) throws(UnsupportedInterval) -> String {
        "kline.\(try Exchange.bybit.wireInterval(interval)).\(symbol)"
    }

    /// The subscribe frame for `topics`.
    public static func subscribeFrame(topics: [String]) -> String {
        JSONCodec.encodeString(.object(["op": .string("subscribe"), "args": .array(topics.map(JSONValue.string))]))
    }

    /// Decodes a `GET /v5/market/kline` body for `interval`: the bars oldest first (the list
    /// comes newest first), or the API error of a `retCode` ≠ 0. A bar is `closed` when its
    /// close time (open + interval) is not after `nowMillis`. Throws on anything else, a single
    /// broken row included (`decodePage` keeps the other rows).
    public static func decodeHistory(
        _ text: String, interval: KlineInterval, nowMillis: Int64
    ) throws(KlineDecodeError) -> Result<[ExchangeKline], ExchangeAPIError> {
        switch try decodePage(text, interval: interval, nowMillis: nowMillis) {
        case .success(let page): return .success(try page.strict())
        case .failure(let error): return .failure(error)
        }
    }

    /// Like `decodeHistory`, row by row: a row that breaks the format is set aside in
    /// `KlinePage.malformedRows` and the others are kept. Throws when the envelope itself breaks
    /// the format.
    public static func decodePage(
        _ text: String, interval: KlineInterval, nowMillis: Int64
    ) throws(KlineDecodeError) -> Result<KlinePage, ExchangeAPIError> {
        let value = try PayloadFields.parse(text)
        let top = PayloadFields(value: value, path: "")
        let code = try top.int("retCode")
        let message = try top.string("retMsg")
        if code == ExchangeAPIError.bybitRateLimitCode { return .failure(.bybitRateLimited(message: message)) }
        if code != 0 { return .failure(.bybit(retCode: code, message: message)) }
        let result = PayloadFields(value: try top.member("result"), path: "result.")
        let symbol = try result.string("symbol")
        guard let list = try result.member("list").arrayValue else { throw KlineDecodeError("result.list must be an array") }
        // Newest first on the wire: the page is oldest first.
        return .success(
            KlinePage(rows: list.reversed()) { row throws(KlineDecodeError) in
                try historyRow(row, symbol: symbol, interval: interval, nowMillis: nowMillis)
            })
    }

    private static func historyRow(
        _ row: JSONValue, symbol: String, interval: KlineInterval, nowMillis: Int64
    ) throws(KlineDecodeError) -> ExchangeKline {
        guard let r = row.arrayValue, r.count == 7 else {
            throw KlineDecodeError("a kline row must be an array of 7 strings")
        }
        guard let start = r[0].stringValue, DecimalString.isInteger(start), let openTime = Int64(start) else {
            throw KlineDecodeError("startTime (column 0) must be a string of digits")
        }
        return try PayloadFields.kline(
            r, symbol: symbol, interval: interval, openTime: openTime,
            closed: interval.closeTime(ofBarOpeningAt: openTime) <= nowMillis)
    }

    /// Decodes one WebSocket text message: a kline push, a subscribe answer or a pong. Throws on
    /// anything else.
    public static func decodeStream(_ text: String) throws(KlineDecodeError) -> StreamMessage {
        let value = try PayloadFields.parse(text)
        let top = PayloadFields(value: value, path: "")
        if value["op"] != nil {
            let op = try top.string("op")
            switch op {
            case "subscribe": return .subscribed(success: try top.bool("success"), message: try top.string("ret_msg"))
            case "ping", "pong": return .pong
            default: throw KlineDecodeError("op \"\(op.prefix(20))\" is not subscribe or ping")
            }
        }
        let topic = try top.string("topic")
        let parts = topic.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "kline", let interval = Exchange.bybit.interval(fromWire: String(parts[1])) else {
            throw KlineDecodeError("topic must be kline.<interval>.<SYMBOL>")
        }
        let symbol = String(parts[2])
        guard let data = try top.member("data").arrayValue else { throw KlineDecodeError("data must be an array") }
        var out: [ExchangeKline] = []
        for (i, entry) in data.enumerated() {
            let d = PayloadFields(value: entry, path: "data[\(i)].")
            guard try d.string("interval") == String(parts[1]) else {
                throw KlineDecodeError("data[\(i)].interval must match the topic")
            }
            let start = try d.int("start")
            guard try d.int("end") > start else { throw KlineDecodeError("data[\(i)].end must be after start") }
            out.append(
                ExchangeKline(
                    symbol: symbol, interval: interval, openTime: start, open: try d.decimal("open"),
                    high: try d.decimal("high"), low: try d.decimal("low"), close: try d.decimal("close"),
                    volume: try d.decimal("volume"), closed: try d.bool("confirm")))
        }
        return .klines(out)
    }
}
