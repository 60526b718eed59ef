/// Redis keys of the live ingest (docs/REDIS_LAYOUT or docs/MARKET_DATA.md), under `redis.prefix`.
enum MarketDataKeys {
    /// `<prefix>market_data:{MARKET}:{INTERVAL}`: the status hash of a market this gateway ingests
    /// (`exchange`, `symbol`, `status`, `updated_at` epoch ms, `gateway`), kept alive by the lease
    /// keeper; it vanishes within `market_data.lease_ms` of the last gateway ingesting it.
    static func status(prefix: String, market: String, interval: String) -> String {
        "\(prefix)market_data:\(market):\(interval)"
    }

    /// `<prefix>lease:market_data:{MARKET}:{INTERVAL}`: which gateway ingests the market (its id,
    /// with a time to live of `market_data.lease_ms`).
    static func lease(prefix: String, market: String, interval: String) -> String {
        "\(prefix)lease:market_data:\(market):\(interval)"
    }

    /// `<prefix>market_data:gateways`: a sorted set of the gateways ingesting markets, scored by
    /// their last beat (epoch ms), for each gateway's fair share.
    static func gateways(prefix: String) -> String {
        "\(prefix)market_data:gateways"
    }
}
