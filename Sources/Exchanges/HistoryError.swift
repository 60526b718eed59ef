import MarketDataCore

/// Why a `HistoryClient` page failed. Messages name the exchange, the symbol and what to do; they
/// never contain a URL's path or query, a header value or a body.
public enum HistoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The exchange does not list the symbol (Binance -1121, Bybit retCode 10001 "Not supported
    /// symbols"); `message` is the exchange's.
    case unknownSymbol(exchange: Exchange, symbol: String, message: String)
    /// The exchange has no klines of that interval.
    case unsupportedInterval(UnsupportedInterval)
    /// The exchange refused the request for another reason (an API error code, another 4xx).
    case refused(exchange: Exchange, symbol: String, message: String)
    /// No usable answer after every attempt: connection, timeout, TLS or 5xx.
    case transport(exchange: Exchange, message: String)
    /// The answers were not the documented format after every attempt.
    case badPayload(exchange: Exchange, message: String)
    /// The exchange's circuit is open (its REST calls failed again and again): no request was
    /// sent. The cool-down (`circuit.cooldown_s`) ends in `retryIn` seconds, when one call may
    /// probe; nil: the probe is under way.
    case circuitOpen(exchange: Exchange, retryIn: Double?)
    /// `HistoryClient.cancel()` was called (shutdown).
    case cancelled

    /// One line for an operator.
    public var description: String {
        switch self {
        case let .unknownSymbol(exchange, symbol, message):
            return "\(exchange) does not list the symbol \(symbol) (\(message)); check the market's spelling on \(exchange)"
        case let .unsupportedInterval(error):
            return error.description
        case let .refused(exchange, symbol, message):
            return "\(exchange) refused the klines request for \(symbol): \(message)"
        case let .transport(exchange, message):
            return "\(exchange) REST API unreachable: \(message)"
        case let .badPayload(exchange, message):
            return "\(exchange) answered klines in an unexpected format: \(message)"
        case let .circuitOpen(exchange, _):
            return "\(exchange) REST circuit open after repeated failures; no request is sent until the cool-down ends"
        case .cancelled:
            return "cancelled"
        }
    }
}
