import GatewayCore
import MarketDataCore
import RedisClient

/// Settings every market worker shares (from `market_data.*` and `redis.prefix`).
struct MarketIngestSettings: Sendable {
    /// `redis.prefix`.
    var prefix: String
    /// `market_data.backfill_bars`.
    var backfillBars: Int
    /// `market_data.retain_bars`.
    var retainBars: Int
    /// `market_data.stale_after_intervals`.
    var staleAfterIntervals: Int
    /// `market_data.sample_bar_s`.
    var sampleBarS: Double
    /// `market_data.lease_ms`.
    var leaseMs: Int
    /// Bars per REST page (both exchanges allow 1000).
    var pageLimit = 1000
    /// This gateway's name in leases and status hashes (`<hostname>-<pid>`).
    var gatewayID: String
}

/// What the workers of one gateway share: settings, Redis, the ledger (alerts), metrics, the
/// clock, and where a worker reports its market's status (for `/ready`).
struct MarketIngestContext: Sendable {
    /// The settings.
    var settings: MarketIngestSettings
    /// The gateway's Redis.
    var address: RedisAddress
    /// For `risk.alert`s (one Lua script each).
    var ledger: Ledger
    /// The one way bars enter a klines stream.
    var appender: KlineAppender
    /// `/metrics` series.
    var metrics: MarketDataMetrics
    /// Monotonic time for deadlines, wall time for bar times.
    var clock: any GatewayClock
    /// A worker's market changed status.
    var report: @Sendable (ConfiguredMarket, MarketFeed.Status) -> Void
}

/// A configured market (`market_data.markets[]`).
typealias ConfiguredMarket = GatewayConfig.ConfiguredMarket
