import MarketDataCore

/// The klines REST request of each exchange (SPEC §10) and how its answer decodes.
enum HistoryRequest {
    /// Request weight of one klines call: Binance 2 (flat for any `limit`), Bybit 1 (every
    /// request counts once against the IP limit).
    static func weight(_ exchange: Exchange) -> Int {
        switch exchange {
        case .binance: return BinanceKlines.requestWeight
        case .bybit: return 1
        }
    }

    /// Largest `limit` of one page.
    static func maxLimit(_ exchange: Exchange) -> Int {
        switch exchange {
        case .binance: return BinanceKlines.maxLimit
        case .bybit: return BybitKlines.maxLimit
        }
    }

    /// The URL of one page: Binance `GET /api/v3/klines?symbol=&interval=&startTime=&endTime=&limit=`,
    /// Bybit `GET /v5/market/kline?category=spot&symbol=&interval=&start=&end=&limit=`. `symbol`
    /// is a canonical id (letters and digits only), so nothing needs escaping.
    static func url(
        _ exchange: Exchange, restURL: String, symbol: String, wireInterval: String, startTime: Int64, endTime: Int64,
        limit: Int
    ) -> String {
        switch exchange {
        case .binance:
            return "\(restURL)/api/v3/klines?symbol=\(symbol)&interval=\(wireInterval)"
                + "&startTime=\(startTime)&endTime=\(endTime)&limit=\(limit)"
        case .bybit:
            return "\(restURL)/v5/market/kline?category=spot&symbol=\(symbol)&interval=\(wireInterval)"
                + "&start=\(startTime)&end=\(endTime)&limit=\(limit)"
        }
    }

    /// Decodes a body: the page row by row, or the exchange's API error.
    static func decode(
        _ exchange: Exchange, _ text: String, symbol: String, interval: KlineInterval, nowMillis: Int64
    ) throws(KlineDecodeError) -> Result<KlinePage, ExchangeAPIError> {
        switch exchange {
        case .binance: return try BinanceKlines.decodePage(text, symbol: symbol, interval: interval, nowMillis: nowMillis)
        case .bybit: return try BybitKlines.decodePage(text, interval: interval, nowMillis: nowMillis)
        }
    }

    /// The error a refused request becomes: an unknown symbol (Binance -1121, Bybit retCode
    /// 10001 naming symbols) or another refusal.
    static func error(_ apiError: ExchangeAPIError, exchange: Exchange, symbol: String) -> HistoryError {
        switch apiError {
        case let .binance(code, message) where code == -1121:
            return .unknownSymbol(exchange: exchange, symbol: symbol, message: "error \(code): \(message)")
        case let .bybit(code, message) where code == 10001 && message.lowercased().contains("symbol"):
            return .unknownSymbol(exchange: exchange, symbol: symbol, message: "retCode \(code): \(message)")
        default:
            return .refused(exchange: exchange, symbol: symbol, message: apiError.description)
        }
    }
}
