import JSONCodec
import RedisClient
import TradingCore

/// `klines.list` / `GET /v1/klines?market=&interval=&limit=` (VIEWER): the latest closed bars of a
/// market and interval, read from its klines stream (`<prefix>stream:klines:{MARKET}:{INTERVAL}`,
/// the stream behind the topic `klines:{MARKET}:{INTERVAL}`). A chart loads this history, then
/// follows the topic live; this works whether or not the page already shares a live subscription
/// to the topic (a shared subscription cannot replay from `"0"` for a late listener).
///
/// Answer: `{"market","interval","topic","last_id","total","data":[{"open_time","open","high",
/// "low","close","volume"}]}` — at most `limit` bars (default 200, 1–2000), oldest first, one per
/// open time (the newest event wins when a replay published a bar twice); `last_id` is the
/// newest stream id read (null for an empty or missing stream). Events that are not readable
/// `kline.closed` events are skipped.
enum KlineHistory {
    static let defaultLimit = 200
    static let maxLimit = 2000

    /// Validates the parameters and reads the bars on `c`.
    static func list(_ params: JSONObject, prefix: String, on c: RedisConnection) throws -> JSONValue {
        let (market, interval, limit) = try parse(params)
        let key = JobData.streamKey(prefix: prefix, market: market, interval: interval)
        let reply = try c.command(["XREVRANGE", key, "+", "-", "COUNT", String(limit)]).checked()
        var lastID: JSONValue = .null
        var byTime: [Int64: Bar] = [:]
        for entry in reply.array ?? [] {
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
            if lastID.isNull { lastID = .string(id) }
            guard let bytes = StreamReader.eventField(parts[1]), let bar = JobData.bar(fromEvent: bytes),
                byTime[bar.time] == nil
            else { continue }
            byTime[bar.time] = bar
        }
        let bars = byTime.values.sorted { $0.time < $1.time }
        return .object([
            "market": .string(market), "interval": .string(interval),
            "topic": .string("klines:\(market):\(interval)"), "last_id": lastID,
            "total": .int(Int64(bars.count)), "data": .array(bars.map(json)),
        ])
    }

    /// `market` (as in topic names), `interval` (a kline interval) and `limit`; numbers may come
    /// as strings (REST query).
    static func parse(_ params: JSONObject) throws -> (market: String, interval: String, limit: Int) {
        guard let market = params["market"]?.stringValue, Topic.isValidMarket(market) else {
            throw APIError(.badRequest, "market is required: 1-32 of A-Z 0-9 _ - (e.g. BTCUSDT)")
        }
        guard let interval = params["interval"]?.stringValue, Topic.klineIntervals.contains(interval) else {
            throw APIError(.badRequest, "interval is required, one of \(Topic.klineIntervals.sorted().joined(separator: ", "))")
        }
        var limit = defaultLimit
        if let raw = params["limit"], !raw.isNull {
            guard let n = raw.intValue ?? raw.stringValue.flatMap({ Int64($0) }), n >= 1, n <= Int64(maxLimit) else {
                throw APIError(.badRequest, "limit must be a whole number from 1 to \(maxLimit)")
            }
            limit = Int(n)
        }
        return (market, interval, limit)
    }

    private static func json(_ bar: Bar) -> JSONValue {
        .object([
            "open_time": .string(RFC3339.format(milliseconds: bar.time)),
            "open": .double(bar.open), "high": .double(bar.high), "low": .double(bar.low),
            "close": .double(bar.close), "volume": .double(bar.volume),
        ])
    }
}
