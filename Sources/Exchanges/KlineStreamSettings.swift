import MarketDataCore

/// How the kline stream hub keeps its connections (defaults from the exchanges' documentation;
/// tests shorten the times).
public struct KlineStreamSettings: Sendable {
    /// Reconnect delays per connection: 1 s doubling to 60 s, ±20 % jitter (SPEC §10).
    public var backoff = ReconnectBackoff()
    /// Binance connections are replaced before the exchange's 24 h cut: open the new one, then
    /// close the old one.
    public var binanceRenewal = ConnectionRenewal.binance
    /// Seconds between the hub's heartbeats on an open connection: a ping frame on Binance (the
    /// server also pings every 20 s, and lws answers those), `{"op":"ping"}` on Bybit (its
    /// documentation asks for one every 20 s).
    public var heartbeatInterval = BybitKlines.pingIntervalSeconds
    /// A connection that has sent no message and no pong for this many seconds is dropped and
    /// reconnected (a little over two heartbeats).
    public var idleTimeout = 45.0
    /// Seconds allowed for the TCP connect, the TLS and the WebSocket handshake (the hub drops an
    /// attempt still not open by then; lws has the same limit on each of its steps).
    public var connectTimeout = 10
    /// Longest message accepted (a kline message is under 1 KiB); a longer one drops the
    /// connection, so a hostile or broken server cannot grow memory without bound.
    public var maxMessageBytes = 1 << 20
    /// Most streams on one Binance connection (documented limit: 1024).
    public var binanceMaxStreamsPerConnection = 1024
    /// Longest `/stream?streams=...` path of one Binance connection: lws builds the handshake
    /// request in a 4 KiB buffer, so larger sets of streams are split over more connections.
    public var binanceMaxPathBytes = 3000
    /// Most topics in one Bybit subscribe request (documented for spot: 10).
    public var bybitMaxArgsPerSubscribe = 10
    /// Most topics on one Bybit connection (not a documented limit: a choice that keeps one
    /// reconnect's gap repair small).
    public var bybitMaxTopicsPerConnection = 200
    /// Accept self-signed certificates on `wss://` (tests only).
    public var allowSelfSignedTLS = false

    /// The defaults above.
    public init() {}
}
