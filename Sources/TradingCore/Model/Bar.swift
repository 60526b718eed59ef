/// One OHLCV bar. `time` is the bar's open time in milliseconds since the Unix epoch (UTC).
public struct Bar: Sendable, Equatable, Hashable {
    /// Open time, milliseconds since 1970-01-01T00:00:00Z.
    public var time: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    public init(time: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.time = time
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// Direction of a signal, an order or a position. Raw values are the wire names.
public enum Side: String, Sendable, Codable, CaseIterable {
    case buy = "BUY"
    case sell = "SELL"

    /// +1 for a long (buy) position, -1 for a short (sell) position.
    public var sign: Double { self == .buy ? 1 : -1 }
}
