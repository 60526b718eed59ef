import GatewayCore
import RedisClient
import TradingCore

/// The one way bars from an exchange enter a klines stream (SPEC §7, §10): appends `kline.closed`
/// events to `<prefix>stream:klines:{MARKET}:{INTERVAL}` exactly once and in order, capped at
/// `retainBars` (`MAXLEN ~`). Used by the live ingest and by `bedrock backfill --redis`.
///
/// Each batch runs as one Lua script (`Lua/append_klines.lua`): it reads the stream's last bar
/// (the `open_time` of its newest `kline.closed` event) and appends, in order, only the bars that
/// open after it. So a batch sent twice, a restart mid-backfill, or two writers racing on the same
/// market never append a bar twice or out of order; whatever the stream already holds wins.
///
/// Threading: the appender is immutable (its script cache is thread-safe); each call uses the
/// caller's `RedisConnection` on the caller's thread.
public struct KlineAppender: Sendable {
    /// The script's name.
    static let script = "append_klines"

    /// The configured key prefix (`redis.prefix`).
    public let prefix: String
    /// Approximate cap of each klines stream (`market_data.retain_bars`).
    public let retainBars: Int
    private let scripts: ScriptRunner

    /// An appender under `prefix`, capping streams at about `retainBars` entries. Throws when the
    /// Lua script cannot be found (an incomplete installation).
    public init(prefix: String, retainBars: Int = 100_000) throws {
        self.prefix = prefix
        self.retainBars = max(1, retainBars)
        scripts = try ScriptRunner(standalone: [Self.script])
    }

    /// The stream of `market` (canonical id) and `interval`.
    public func streamKey(market: String, interval: String) -> String {
        StreamKeys.key(prefix: prefix, topic: "klines:\(market):\(interval)")
    }

    /// Appends `bars` (oldest first) as `kline.closed` events of `market`/`interval`, with
    /// `symbol` (`BTC/USDT`) when known and `"backfill": true` on the bars `backfill` picks,
    /// stamped `nowMillis`. Bars not opening after the stream's last bar (nor after the previous
    /// bar of the batch) are skipped. Answers how many were appended and the stream's last open
    /// time afterwards. Throws `RedisError` on a connection or server failure, and when the
    /// stream's newest entries hold no readable `kline.closed` event.
    @discardableResult
    public func append(
        _ bars: [Bar], market: String, symbol: String?, interval: String, backfill: (Bar) -> Bool, nowMillis: Int64,
        on connection: RedisConnection
    ) throws -> (appended: Int, lastOpenTime: Int64?) {
        var args = [String(retainBars)]
        args.reserveCapacity(1 + 2 * bars.count)
        for bar in bars {
            args.append(String(bar.time))
            args.append(
                KlineEvent.encode(
                    bar, market: market, interval: interval, now: nowMillis, symbol: symbol, backfill: backfill(bar)))
        }
        let reply = try scripts.run(
            Self.script, keys: [streamKey(market: market, interval: interval)], args: args, on: connection)
        guard let parts = reply.array, parts.count >= 1, let appended = parts[0].integer else {
            throw RedisError.unexpectedReply("append_klines answered \(reply)")
        }
        return (Int(appended), parts.count > 1 ? parts[1].integer : nil)
    }

    /// `append` with every bar marked `backfill` or none.
    @discardableResult
    public func append(
        _ bars: [Bar], market: String, symbol: String?, interval: String, backfill: Bool, nowMillis: Int64,
        on connection: RedisConnection
    ) throws -> (appended: Int, lastOpenTime: Int64?) {
        try append(
            bars, market: market, symbol: symbol, interval: interval, backfill: { _ in backfill }, nowMillis: nowMillis,
            on: connection)
    }

    /// The open time (ms) of the stream's last bar, nil when it holds none: where a backfill or
    /// the live feed resumes. Read by the same script, so it agrees with `append`.
    public func lastOpenTime(market: String, interval: String, on connection: RedisConnection) throws -> Int64? {
        try append([], market: market, symbol: nil, interval: interval, backfill: false, nowMillis: 0, on: connection)
            .lastOpenTime
    }
}
