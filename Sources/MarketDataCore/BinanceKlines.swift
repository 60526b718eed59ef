import JSONCodec

/// Binance spot kline payloads, field for field from the official documentation:
/// - REST `GET /api/v3/klines`: an array of rows `[openTime, "open", "high", "low", "close",
///   "volume", closeTime, "quoteVolume", trades, "takerBase", "takerQuote", "0"]`, oldest first
///   (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data);
/// - errors `{"code": -1121, "msg": "Invalid symbol."}`;
/// - WebSocket `<symbol>@kline_<interval>` events `{"e":"kline","E":..,"s":..,"k":{"t","T","s",
///   "i","f","L","o","c","h","l","v","n","x","q","V","Q","B"}}`, on a combined stream wrapped as
///   `{"stream":"<name>","data":<event>}`, and `{"result":null,"id":N}` answers to requests
///   (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams).
public enum BinanceKlines {
    /// Request weight of one `GET /api/v3/klines` call: the spot documentation gives a flat 2
    /// whatever `limit` (1–1000) is; only the futures APIs weigh klines by limit.
    public static let requestWeight = 2
    /// Largest `limit` of one klines page.
    public static let maxLimit = 1000

    /// One message of a kline WebSocket.
    public enum StreamMessage: Sendable, Equatable {
        /// A kline update: the forming bar (`closed` false) or its final state (`closed` true).
        case kline(ExchangeKline)
        /// `{"result": ..., "id": N}`: the answer to a SUBSCRIBE (or other) request.
        case response(id: Int64)
    }

    /// Decodes a `GET /api/v3/klines` body for `interval`: the rows, oldest first, or the API
    /// error of a `{"code","msg"}` body. A row is `closed` when its close time is before
    /// `nowMillis` (the last row of a page reaching now is the forming bar). Throws on anything
    /// else, a single broken row included (`decodePage` keeps the other rows).
    public static func decodeHistory(
        _ text: String, symbol: String, interval: KlineInterval, nowMillis: Int64
    ) throws(KlineDecodeError) -> Result<[ExchangeKline], ExchangeAPIError> {
        switch try decodePage(text, symbol: symbol, interval: interval, nowMillis: nowMillis) {
        case .success(let page): return .success(try page.strict())
        case .failure(let error): return .failure(error)
        }
    }

    /// Like `decodeHistory`, row by row: a row that breaks the format is set aside in
    /// `KlinePage.malformedRows` and the others are kept. Throws when the body itself is not an
    /// array of rows or an API error.
    public static func decodePage(
        _ text: String, symbol: String, interval: KlineInterval, nowMillis: Int64
    ) throws(KlineDecodeError) -> Result<KlinePage, ExchangeAPIError> {
        let value = try PayloadFields.parse(text)
        if let error = try apiError(value) { return .failure(error) }
        guard let rows = value.arrayValue else { throw KlineDecodeError("body must be an array of kline rows") }
        return .success(
            KlinePage(rows: rows) { row throws(KlineDecodeError) in
                try historyRow(row, symbol: symbol, interval: interval, nowMillis: nowMillis)
            })
    }

    private static func historyRow(
        _ row: JSONValue, symbol: String, interval: KlineInterval, nowMillis: Int64
    ) throws(KlineDecodeError) -> ExchangeKline {
        guard let r = row.arrayValue, r.count == 12 else {
            throw KlineDecodeError("a kline row must be an array of 12 fields")
        }
        guard case .int(let openTime) = r[0] else { throw KlineDecodeError("open time (column 0) must be an integer") }
        guard case .int(let closeTime) = r[6], closeTime > openTime else {
            throw KlineDecodeError("close time (column 6) must be an integer after the open time")
        }
        return try PayloadFields.kline(r, symbol: symbol, interval: interval, openTime: openTime, closed: closeTime < nowMillis)
    }

    /// The error of a `{"code": <negative>, "msg": "..."}` body, nil for any other body.
    public static func apiError(_ value: JSONValue) throws(KlineDecodeError) -> ExchangeAPIError? {
        guard value.objectValue != nil, value["code"] != nil else { return nil }
        let fields = PayloadFields(value: value, path: "")
        return .binance(code: try fields.int("code"), message: try fields.string("msg"))
    }

    /// Decodes one WebSocket text message: a kline event (bare or in a combined-stream wrapper)
    /// or a request's answer. Throws on anything else.
    public static func decodeStream(_ text: String) throws(KlineDecodeError) -> StreamMessage {
        var value = try PayloadFields.parse(text)
        if value["stream"] != nil, let data = value["data"] {
            guard value["stream"]?.stringValue != nil else { throw KlineDecodeError("stream must be a string") }
            value = data
        } else if value["result"] != nil, let id = value["id"] {
            guard case .int(let n) = id else { throw KlineDecodeError("id must be an integer") }
            return .response(id: n)
        }
        let event = PayloadFields(value: value, path: "")
        guard try event.string("e") == "kline" else { throw KlineDecodeError("e must be \"kline\"") }
        let k = PayloadFields(value: try event.member("k"), path: "k.")
        let wire = try k.string("i")
        guard let interval = Exchange.binance.interval(fromWire: wire) else {
            throw KlineDecodeError("k.i is not a kline interval")
        }
        let openTime = try k.int("t")
        guard try k.int("T") > openTime else { throw KlineDecodeError("k.T must be after k.t") }
        return .kline(
            ExchangeKline(
                symbol: try k.string("s"), interval: interval, openTime: openTime, open: try k.decimal("o"),
                high: try k.decimal("h"), low: try k.decimal("l"), close: try k.decimal("c"),
                volume: try k.decimal("v"), closed: try k.bool("x")))
    }

    /// The stream name of `symbol`'s klines (`btcusdt@kline_1h`): lower-case symbol, as the
    /// documentation requires, for `/ws/<name>` and `/stream?streams=<name>/<name>`.
    public static func streamName(symbol: String, interval: KlineInterval) -> String {
        "\(symbol.lowercased())@kline_\(interval.rawValue)"
    }
}
