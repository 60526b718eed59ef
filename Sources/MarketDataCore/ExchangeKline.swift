import JSONCodec
import TradingCore

/// One kline as an exchange sent it, decoded (REST row or WebSocket update), before quality checks
/// and sequencing.
public struct ExchangeKline: Sendable, Equatable {
    /// The exchange's symbol (`BTCUSDT`).
    public var symbol: String
    /// The interval.
    public var interval: KlineInterval
    /// Open time, ms since the epoch (UTC).
    public var openTime: Int64
    /// Open price.
    public var open: Double
    /// High price.
    public var high: Double
    /// Low price.
    public var low: Double
    /// Close price.
    public var close: Double
    /// Base-asset volume.
    public var volume: Double
    /// True when the bar is final (Binance `k.x`, Bybit `confirm`; REST rows whose close time has
    /// passed — see the REST decoders).
    public var closed: Bool

    /// A decoded kline.
    public init(
        symbol: String, interval: KlineInterval, openTime: Int64, open: Double, high: Double, low: Double,
        close: Double, volume: Double, closed: Bool
    ) {
        self.symbol = symbol; self.interval = interval; self.openTime = openTime
        self.open = open; self.high = high; self.low = low; self.close = close; self.volume = volume
        self.closed = closed
    }

    /// The bar (open time in ms), as the engine and the `kline.closed` event carry it.
    public var bar: Bar { Bar(time: openTime, open: open, high: high, low: low, close: close, volume: volume) }
}

/// One REST page of klines, decoded row by row: the rows that follow the documented format, oldest
/// first, and why each other row does not (each one dropped and counted as `malformed`, so one
/// broken row does not cost the page).
public struct KlinePage: Sendable, Equatable {
    /// The decoded rows, oldest first.
    public var klines: [ExchangeKline]
    /// Why each dropped row broke the format.
    public var malformedRows: [KlineDecodeError]

    /// A page.
    public init(klines: [ExchangeKline], malformedRows: [KlineDecodeError] = []) {
        self.klines = klines
        self.malformedRows = malformedRows
    }

    /// Each of `rows` decoded by `row`, in order; a row that breaks the format is set aside with
    /// its error and the rest kept.
    init(rows: some Sequence<JSONValue>, row: (JSONValue) throws(KlineDecodeError) -> ExchangeKline) {
        self.init(klines: [])
        klines.reserveCapacity(rows.underestimatedCount)
        for r in rows {
            do {
                klines.append(try row(r))
            } catch {
                malformedRows.append(error)
            }
        }
    }

    /// The klines, or the first row's decode error when any row broke the format.
    func strict() throws(KlineDecodeError) -> [ExchangeKline] {
        if let first = malformedRows.first { throw first }
        return klines
    }
}

/// Why a payload is not a kline message of the documented format: the payload is dropped and
/// counted (`MarketDataRejectReason.malformed`). Names the field, never repeats the payload.
public struct KlineDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong, e.g. `k.o must be a decimal string`.
    public let message: String

    /// A decode error saying `message`.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// An error answer of an exchange's REST API, typed for the pacer and the alerts.
public enum ExchangeAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Binance `{"code": -1121, "msg": "Invalid symbol."}` (any negative code).
    case binance(code: Int64, message: String)
    /// Bybit `retCode` ≠ 0 other than the rate limit.
    case bybit(retCode: Int64, message: String)
    /// Bybit `retCode` 10006: too many visits; back off (`RequestPacer`).
    case bybitRateLimited(message: String)

    /// Bybit's retCode for "too many visits" (rate limit exceeded).
    public static let bybitRateLimitCode: Int64 = 10006

    /// The exchange, its code and its message, for logs.
    public var description: String {
        switch self {
        case let .binance(code, message): return "binance error \(code): \(message)"
        case let .bybit(code, message): return "bybit retCode \(code): \(message)"
        case let .bybitRateLimited(message): return "bybit retCode 10006 (rate limited): \(message)"
        }
    }
}
