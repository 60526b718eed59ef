/// An exchange the gateway ingests klines from (SPEC §10): Binance spot and Bybit v5 spot.
public enum Exchange: String, Sendable, CaseIterable, CustomStringConvertible {
    case binance
    case bybit

    /// The configuration name (`binance`).
    public var description: String { rawValue }

    /// The exchange's spelling of `interval`, or `UnsupportedInterval` (a configuration error)
    /// when the exchange has no such klines. Binance spells every interval as the gateway does;
    /// Bybit uses `1 3 5 15 30 60 120 240 360 720 D W M` and has no `8h` or `3d`.
    public func wireInterval(_ interval: KlineInterval) throws(UnsupportedInterval) -> String {
        guard let s = wireIntervals[interval] else { throw UnsupportedInterval(exchange: self, interval: interval) }
        return s
    }

    /// The gateway interval of the exchange's spelling `wire` (`60` on Bybit is `1h`); nil when
    /// the exchange has no such spelling.
    public func interval(fromWire wire: String) -> KlineInterval? {
        wireIntervals.first { $0.value == wire }?.key
    }

    /// The intervals this exchange offers, shortest first.
    public var supportedIntervals: [KlineInterval] { KlineInterval.allCases.filter { wireIntervals[$0] != nil } }

    private var wireIntervals: [KlineInterval: String] {
        switch self {
        case .binance: return Self.binanceIntervals
        case .bybit: return Self.bybitIntervals
        }
    }

    private static let binanceIntervals = Dictionary(uniqueKeysWithValues: KlineInterval.allCases.map { ($0, $0.rawValue) })

    private static let bybitIntervals: [KlineInterval: String] = [
        .oneMinute: "1", .threeMinutes: "3", .fiveMinutes: "5", .fifteenMinutes: "15", .thirtyMinutes: "30",
        .oneHour: "60", .twoHours: "120", .fourHours: "240", .sixHours: "360", .twelveHours: "720",
        .oneDay: "D", .oneWeek: "W", .oneMonth: "M",
    ]
}

/// A configured interval the exchange does not offer: a configuration error naming both and the
/// intervals that exchange has.
public struct UnsupportedInterval: Error, Sendable, Equatable, CustomStringConvertible {
    /// The exchange.
    public let exchange: Exchange
    /// The interval it lacks.
    public let interval: KlineInterval

    /// The error for `interval` on `exchange`.
    public init(exchange: Exchange, interval: KlineInterval) {
        self.exchange = exchange
        self.interval = interval
    }

    /// The message: the exchange, the interval, and what the exchange offers.
    public var description: String {
        "\(exchange) has no \(interval) klines; it offers "
            + exchange.supportedIntervals.map(\.rawValue).joined(separator: " ")
    }
}
