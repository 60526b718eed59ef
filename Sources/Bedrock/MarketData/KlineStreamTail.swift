import MarketDataCore
import RedisClient

/// The end of a market's kline stream, as the ingest sees it: the open time of its newest bar, and
/// appending bars after it.
enum KlineStreamTail {
    /// `<prefix>stream:klines:{MARKET}:{INTERVAL}`.
    static func key(prefix: String, market: String, interval: String) -> String {
        "\(prefix)stream:klines:\(market):\(interval)"
    }

    /// Open time of the stream's newest `kline.closed` (nil: empty stream).
    static func lastOpenTime(prefix: String, market: String, interval: String, on connection: RedisConnection) throws
        -> Int64?
    {
        let reply = try connection.command([
            "XREVRANGE", key(prefix: prefix, market: market, interval: interval), "+", "-", "COUNT", "1",
        ])
        .checked()
        guard let entry = reply.array?.first?.array, entry.count == 2, let fields = entry[1].array else { return nil }
        var i = 0
        while i + 1 < fields.count {
            if fields[i].string == "event", let text = fields[i + 1].string { return KlineEvent.openTime(ofEvent: text) }
            i += 2
        }
        return nil
    }

    /// Appends `bars` (in order, each after the stream's last) as `kline.closed` events; returns
    /// how many were appended.
    static func append(
        _ bars: [MarketFeed.Appended], prefix: String, market: String, symbol: String?, interval: String, retainBars: Int,
        nowMillis: Int64, on connection: RedisConnection
    ) throws -> Int {
        guard !bars.isEmpty else { return 0 }
        let key = key(prefix: prefix, market: market, interval: interval)
        let commands = bars.map { b in
            [
                "XADD", key, "MAXLEN", "~", String(retainBars), "*", "event",
                KlineEvent.encode(
                    b.kline.bar, market: market, interval: interval, now: nowMillis, symbol: symbol, backfill: b.backfill),
            ]
        }
        for reply in try connection.pipeline(commands) { _ = try reply.checked() }
        return bars.count
    }
}
