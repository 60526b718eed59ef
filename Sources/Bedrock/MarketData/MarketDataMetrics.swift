import MarketDataCore
import Prometheus

/// The ingest's series for `/metrics` (SPEC §10, docs/MARKET_DATA.md):
///
/// | metric | type | meaning |
/// |---|---|---|
/// | `bedrock_exchange_requests_total{exchange,status}` | counter | REST calls to an exchange, by outcome (`200`, `429`, `418`, `error`, ...) |
/// | `bedrock_market_data_bars_total{market,interval}` | counter | closed bars appended to the market's kline stream by this gateway |
/// | `bedrock_market_data_rejected_total{reason}` | counter | bars refused: malformed, off the grid, duplicate, out of order, dropped from a full inbox |
/// | `bedrock_market_data_reconnects_total{exchange}` | counter | live-stream reconnects |
/// | `bedrock_market_data_lag_seconds{market,interval}` | gauge | from the close of the market's newest live bar to its append (sample markets: real seconds) |
///
/// The registry's metrics are thread-safe and the same object per name and labels, so any thread
/// may count.
final class MarketDataMetrics: Sendable {
    private let registry: MetricsRegistry

    /// Series in `registry`.
    init(registry: MetricsRegistry) { self.registry = registry }

    /// One REST call to `exchange` ended with `status`.
    func request(exchange: String, status: String) {
        registry.counter(
            "bedrock_exchange_requests_total", help: "REST calls to exchanges, by exchange and outcome.",
            labels: [("exchange", exchange), ("status", status)]
        ).increment()
    }

    /// `count` bars of `market` `interval` were appended.
    func bars(market: String, interval: String, count: Int) {
        registry.counter(
            "bedrock_market_data_bars_total", help: "Closed bars appended to kline streams by this gateway.",
            labels: [("market", market), ("interval", interval)]
        ).increment(by: Int64(count))
    }

    /// `count` bars were refused for `reason`.
    func rejected(_ reason: String, count: Int = 1) {
        registry.counter(
            "bedrock_market_data_rejected_total", help: "Bars refused by the ingest, by reason.",
            labels: [("reason", reason)]
        ).increment(by: Int64(count))
    }

    /// A live stream of `exchange` reconnected.
    func reconnected(exchange: String) {
        registry.counter(
            "bedrock_market_data_reconnects_total", help: "Exchange live-stream reconnects.",
            labels: [("exchange", exchange)]
        ).increment()
    }

    /// The newest live bar of `market` `interval` was appended `seconds` after it closed.
    func lag(market: String, interval: String, seconds: Double) {
        registry.gauge(
            "bedrock_market_data_lag_seconds", help: "Seconds from a market's newest live bar closing to its append.",
            labels: [("market", market), ("interval", interval)]
        ).set(seconds)
    }
}
