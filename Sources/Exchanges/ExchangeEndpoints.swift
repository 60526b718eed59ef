import MarketDataCore

/// Where an exchange's REST API and WebSocket streams live (config `exchanges.<name>.rest_url` /
/// `ws_url`). `http://` and `ws://` are accepted too: testnets, proxies and the test suite's local
/// exchange servers.
public struct ExchangeEndpoints: Sendable, Hashable {
    /// Base URL of the REST API, without a trailing slash (`https://api.binance.com`).
    public var restURL: String
    /// Base URL of the public WebSocket streams (`wss://stream.binance.com:9443`).
    public var wsURL: String

    /// Endpoints at `restURL` and `wsURL`; a trailing `/` on either is dropped.
    public init(restURL: String, wsURL: String) {
        self.restURL = Self.trimmed(restURL)
        self.wsURL = Self.trimmed(wsURL)
    }

    /// The exchange's production endpoints (SPEC §10).
    public static func production(_ exchange: Exchange) -> ExchangeEndpoints {
        switch exchange {
        case .binance: return ExchangeEndpoints(restURL: "https://api.binance.com", wsURL: "wss://stream.binance.com:9443")
        case .bybit: return ExchangeEndpoints(restURL: "https://api.bybit.com", wsURL: "wss://stream.bybit.com/v5/public/spot")
        }
    }

    private static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
