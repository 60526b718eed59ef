import MarketDataCore

/// What a `HistoryClient` reports while it works, for metrics, alerts and progress lines. The
/// observer is called on the calling thread, synchronously: keep it short.
public enum HistoryEvent: Sendable, Equatable {
    /// One REST request ended: the `status` label of
    /// `bedrock_exchange_requests_total{exchange,status}`.
    case request(exchange: Exchange, status: HistoryRequestStatus)
    /// 429, or Bybit retCode 10006: nothing is sent to `exchange` for `waitSeconds`.
    case rateLimited(exchange: Exchange, waitSeconds: Double)
    /// The IP is banned (Binance 418, Bybit 403 "access too frequent") for `waitSeconds`: raise
    /// `risk.alert` `EXCHANGE_BANNED`.
    case banned(exchange: Exchange, waitSeconds: Double)
    /// A bar of a page was dropped: `reason` is the label of
    /// `bedrock_market_data_rejected_total{reason}`; `openTime` when the row had a readable one.
    case rejected(exchange: Exchange, symbol: String, interval: KlineInterval, reason: MarketDataRejectReason, openTime: Int64?)
}

/// The `status` label of `bedrock_exchange_requests_total{exchange,status}`: one closed list, so
/// each label is bound to its counter once.
public enum HistoryRequestStatus: String, Sendable, CaseIterable {
    /// A page of klines arrived.
    case ok
    /// 429, or Bybit retCode 10006.
    case rateLimited = "rate_limited"
    /// Binance 418, Bybit 403.
    case banned
    /// The exchange refused the request (an unknown symbol, another API error, another 4xx).
    case refused
    /// A 5xx answer.
    case serverError = "server_error"
    /// No answer: connection refused, timeout, TLS, a cut connection.
    case transportError = "transport_error"
    /// An answer whose body is not the documented format.
    case malformed
}
