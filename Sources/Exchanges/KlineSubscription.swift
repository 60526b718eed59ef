import MarketDataCore

/// One market's live klines on one exchange: what the kline stream hub follows.
public struct KlineSubscription: Sendable, Hashable, CustomStringConvertible {
    /// The exchange.
    public var exchange: Exchange
    /// Where its streams live (`ws_url`; the REST URL is not used here).
    public var endpoints: ExchangeEndpoints
    /// The market (its canonical id is the exchange's spot symbol, `BTCUSDT`).
    public var symbol: MarketSymbol
    /// The bar interval.
    public var interval: KlineInterval

    /// A subscription to `symbol`'s `interval` klines on `exchange` at `endpoints`.
    public init(exchange: Exchange, endpoints: ExchangeEndpoints, symbol: MarketSymbol, interval: KlineInterval) {
        self.exchange = exchange
        self.endpoints = endpoints
        self.symbol = symbol
        self.interval = interval
    }

    /// `binance:BTC/USDT:1h`, for logs.
    public var description: String { "\(exchange):\(symbol.display):\(interval)" }

    /// The exchange's name of this market's kline stream: Binance `btcusdt@kline_1h`, Bybit
    /// `kline.60.BTCUSDT`; `UnsupportedInterval` when the exchange has no such klines.
    public func streamName() throws(UnsupportedInterval) -> String {
        switch exchange {
        case .binance: return BinanceKlines.streamName(symbol: symbol.id, interval: interval)
        case .bybit: return try BybitKlines.topic(symbol: symbol.id, interval: interval)
        }
    }
}
