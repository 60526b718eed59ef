import Foundation
import RedisClient
import TradingCore

/// `bedrock backfill --redis`: bars appended to a market's klines stream through `KlineAppender`
/// (exactly once, in order, `"backfill": true`), one atomic batch per page.
public struct StreamBackfillSink: BackfillSink {
    /// The appender.
    public let appender: KlineAppender
    /// Canonical market id (`BTCUSDT`).
    public let market: String
    /// Display symbol (`BTC/USDT`) when known.
    public let symbol: String?
    /// The interval (`1m`).
    public let interval: String
    private let connection: RedisConnection

    /// A sink for `market`/`interval` on `connection`.
    public init(appender: KlineAppender, market: String, symbol: String?, interval: String, connection: RedisConnection) {
        self.appender = appender
        self.market = market
        self.symbol = symbol
        self.interval = interval
        self.connection = connection
    }

    /// The stream's last bar.
    public func lastOpenTime() throws -> Int64? {
        try appender.lastOpenTime(market: market, interval: interval, on: connection)
    }

    /// Appends the page as one batch.
    public mutating func write(_ bars: [Bar]) throws -> Int {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        return try appender.append(
            bars, market: market, symbol: symbol, interval: interval, backfill: true, nowMillis: now, on: connection
        ).appended
    }

    /// The stream key.
    public var destination: String { appender.streamKey(market: market, interval: interval) }
}
