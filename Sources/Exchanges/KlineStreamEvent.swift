import MarketDataCore

/// What the kline stream hub reports, in order, on its own thread (`KlineStreamHub`).
public enum KlineStreamEvent: Sendable, Equatable {
    /// The market's live stream is flowing: Binance, the connection carrying it opened; Bybit,
    /// its subscribe was acknowledged with success. Bars that closed while it was not flowing
    /// were missed: repair the gap over REST after every `connected`.
    case connected(KlineSubscription)
    /// The market's stream stopped (the connection carrying it closed, was dropped as silent, or
    /// failed); `reconnecting` follows for its connection.
    case disconnected(KlineSubscription, reason: String)
    /// A bar closed (Binance `k.x`, Bybit `confirm`) and passed `BarQuality`; `receivedAt` is the
    /// hub clock's monotonic seconds when its message arrived. Across a reconnect or a renewal
    /// the same bar may come twice: the sequencer drops the second.
    case closedBar(KlineSubscription, ExchangeKline, receivedAt: Double)
    /// A message or closed bar was refused: `subscription` is nil when the message named no
    /// market of the connection (malformed on a shared connection, or another market).
    case rejected(KlineSubscription?, MarketDataRejectReason, detail: String)
    /// The exchange refused to subscribe the market (Bybit: an unknown symbol); it is asked
    /// again only on the next connection, never in a loop.
    case subscribeFailed(KlineSubscription, reason: String)
    /// A connection of `exchange` carrying `subscriptions` will be tried again after `after`
    /// seconds (reconnect with back-off, or a failed renewal's retry), because of `reason`.
    case reconnecting(exchange: Exchange, subscriptions: [KlineSubscription], after: Double, reason: String)
}
