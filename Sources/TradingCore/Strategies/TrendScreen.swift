/// Direction of the trend screen.
public enum Trend: String, Sendable, Equatable {
    /// close > SMA and SMA rising.
    case up = "UP"
    /// close < SMA and SMA falling.
    case down = "DOWN"
    /// Neither, or not enough bars yet.
    case none = "NONE"
}

/// Trend screen of SPEC §8: uptrend when close > SMA(n) and SMA(n) is rising (greater than its
/// value one bar earlier); downtrend when close < SMA(n) and SMA(n) is falling; otherwise none.
/// Undefined (`.none`) until the SMA has two values. O(1) per bar.
public struct TrendScreen: Sendable {
    private var sma: SMA
    private var previousAverage: Double?
    /// The SMA after the last update (nil while warming up).
    public private(set) var average: Double?
    /// The trend after the last update.
    public private(set) var trend: Trend = .none

    /// Creates a trend screen over an SMA of `period` closes (default 50).
    public init(period: Int = 50) { sma = SMA(period: period) }

    /// Adds a close and returns the trend.
    @discardableResult
    public mutating func update(close: Double) -> Trend {
        previousAverage = average
        average = sma.update(close)
        guard let now = average, let before = previousAverage else { trend = .none; return trend }
        if close > now && now > before {
            trend = .up
        } else if close < now && now < before {
            trend = .down
        } else {
            trend = .none
        }
        return trend
    }
}
