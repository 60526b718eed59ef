import GatewayCore
import JSONCodec
import RedisClient
import TradingCore

/// `klines.list` / `GET /v1/klines?market=&interval=&start=&end=&limit=` (VIEWER, SPEC §10): the
/// closed bars of a market and interval, read from its klines stream
/// (`<prefix>stream:klines:{MARKET}:{INTERVAL}`, the stream behind the topic
/// `klines:{MARKET}:{INTERVAL}`). A chart loads this history, then follows the topic live; this
/// works whether or not the page already shares a live subscription to the topic (a shared
/// subscription cannot replay from `"0"` for a late listener).
///
/// Parameters: `market` (any spelling, answered as its canonical id), `interval` (a kline
/// interval), `start` / `end` (RFC 3339 or epoch ms, both inclusive on the bar's open time),
/// `limit` (default 500, 1–5000). Which bars, at most `limit` of them, oldest first:
/// - neither `start` nor `end`: the newest bars;
/// - `start` (with or without `end`): the first bars opening at or after `start` (and not after
///   `end`) — page forward with `start` = the last `open_time` + 1 ms;
/// - `end` alone: the newest bars opening at or before `end`.
///
/// Answer: `{"market","interval","topic","last_id","total","data":[{"open_time","open","high",
/// "low","close","volume"}]}` — one bar per open time (the newer entry wins when a bar was
/// published twice); `last_id` is the newest stream id read (null when nothing was read).
/// An unknown market or interval with no stream is an empty list. Entries that are not readable
/// `kline.closed` events are skipped. The stream is never read whole: a range is found by
/// bisection (`KlineStreamSearch`), then at most `limit` entries are read.
enum KlineHistory {
    /// Bars answered when `limit` is absent.
    static let defaultLimit = 500
    /// Most bars one call answers.
    static let maxLimit = 5000

    /// What one call asks for.
    struct Query {
        /// Canonical market id.
        var market: String
        /// Kline interval.
        var interval: String
        /// First open time (ms), inclusive.
        var start: Int64?
        /// Last open time (ms), inclusive.
        var end: Int64?
        /// Most bars.
        var limit: Int
    }

    /// Validates the parameters and reads the bars on `c`.
    static func list(_ params: JSONObject, prefix: String, on c: RedisConnection) throws -> JSONValue {
        let q = try parse(params)
        let key = JobData.streamKey(prefix: prefix, market: q.market, interval: q.interval)
        let search = KlineStreamSearch(connection: c, key: key)
        let count = String(q.limit)
        var entries: [KlineStreamSearch.Entry] = []
        var newestID: StreamID?
        if let start = q.start {
            if let from = try search.firstEntry(openingAtOrAfter: start) {
                let reply = try c.command(["XRANGE", key, from.description, "+", "COUNT", count]).checked()
                newestID = lastID(reply)
                entries = KlineStreamSearch.entries(reply)
            }
        } else {
            var upper = "+"
            if let end = q.end, end < Int64.max, let after = try search.firstEntry(openingAtOrAfter: end + 1) {
                upper = "(" + after.description
            }
            let reply = try c.command(["XREVRANGE", key, upper, "-", "COUNT", count]).checked()
            newestID = firstID(reply)
            entries = KlineStreamSearch.entries(reply).reversed()
        }
        // In range (a stream with foreign entries can make the search land a little early or late),
        // in time order (an outside publisher may append an older bar again), the newer entry of
        // a bar published twice.
        let first = q.start ?? Int64.min, last = q.end ?? Int64.max
        let ordered = entries.enumerated().filter { (first...last).contains($0.element.bar.time) }
            .sorted { ($0.element.bar.time, $0.offset) < ($1.element.bar.time, $1.offset) }
        var bars: [Bar] = []
        bars.reserveCapacity(ordered.count)
        for (_, e) in ordered {
            if let newest = bars.last, newest.time == e.bar.time { bars[bars.count - 1] = e.bar } else { bars.append(e.bar) }
        }
        return .object([
            "market": .string(q.market), "interval": .string(q.interval),
            "topic": .string("klines:\(q.market):\(q.interval)"),
            "last_id": newestID.map { .string($0.description) } ?? .null,
            "total": .int(Int64(bars.count)), "data": .array(bars.map(json)),
        ])
    }

    /// `market`, `interval`, `start`, `end` and `limit`; numbers may come as strings (REST query).
    static func parse(_ params: JSONObject) throws(APIError) -> Query {
        let p = LedgerParams(params: params)
        guard let market = try p.market() else { throw APIError(.badRequest, "market is required (e.g. BTCUSDT)") }
        guard let interval = try p.string("interval") else {
            throw APIError(.badRequest, "interval is required, one of \(MarketParameter.intervalList)")
        }
        var q = Query(
            market: market, interval: try MarketParameter.interval(interval), start: try time(params, "start"),
            end: try time(params, "end"), limit: defaultLimit)
        if let start = q.start, let end = q.end, end < start {
            throw APIError(.badRequest, "end must not be before start")
        }
        if let raw = params["limit"], !raw.isNull {
            guard let n = raw.intValue ?? raw.stringValue.flatMap({ Int64($0) }), n >= 1, n <= Int64(maxLimit) else {
                throw APIError(.badRequest, "limit must be a whole number from 1 to \(maxLimit)")
            }
            q.limit = Int(n)
        }
        return q
    }

    /// An optional time: epoch milliseconds (a JSON integer or digits) or an RFC 3339 date-time.
    static func time(_ params: JSONObject, _ name: String) throws(APIError) -> Int64? {
        guard let v = params[name], !v.isNull else { return nil }
        if let ms = v.intValue { return ms }
        if let text = v.stringValue {
            if text.isEmpty { return nil }
            if text.utf8.count <= 19, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let ms = Int64(text) { return ms }
            if text.utf8.count <= 64, let ms = JobData.utcTime(text) ?? KlineEvent.parseRFC3339(text) { return ms }
        }
        throw APIError(
            .badRequest, "\(name) must be an RFC 3339 time (e.g. 2024-01-01T00:00:00Z) or epoch milliseconds")
    }

    private static func firstID(_ reply: RedisReply) -> StreamID? {
        reply.array?.first?.array?.first?.string.flatMap(StreamID.init)
    }

    private static func lastID(_ reply: RedisReply) -> StreamID? {
        reply.array?.last?.array?.first?.string.flatMap(StreamID.init)
    }

    private static func json(_ bar: Bar) -> JSONValue {
        .object([
            "open_time": .string(RFC3339.format(milliseconds: bar.time)),
            "open": .double(bar.open), "high": .double(bar.high), "low": .double(bar.low),
            "close": .double(bar.close), "volume": .double(bar.volume),
        ])
    }
}
