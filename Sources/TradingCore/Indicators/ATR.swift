/// Average true range with Wilder's smoothing. True range of the first bar is high − low; later
/// bars use max(high − low, |high − prevClose|, |low − prevClose|). The first value is the mean
/// of the first `period` true ranges (available at bar `period`), then
/// ATR = (ATR_prev × (n − 1) + TR) / n. O(1) per bar.
public struct ATR: Sendable {
    /// Period n.
    public let period: Int
    private var previousClose: Double?
    private var seedSum = 0.0
    private var count = 0
    /// Current value, nil while warming up.
    public private(set) var value: Double?

    /// Creates an ATR over `period` (≥ 1) bars.
    public init(period: Int) {
        precondition(period >= 1, "ATR period must be at least 1")
        self.period = period
    }

    /// True range of a bar given the previous close (nil for the first bar).

    public static func trueRange(high: Double, low: Double, previousClose: Double?) -> Double {
        guard let pc = previousClose else { return high - low }
        return Swift.max(high - low, Swift.max(abs(high - pc), abs(low - pc)))
    }

    /// Adds a bar and returns the new ATR (nil while warming up).
    @discardableResult
    public mutating func update(high: Double, low: Double, close: Double) -> Double? {
        let tr = ATR.trueRange(high: high, low: low, previousClose: previousClose)
        previousClose = close
        if let v = value {
            value = (v * Double(period - 1) + tr) / Double(period)
        } else {
            seedSum += tr
            count += 1
            if count == period { value = seedSum / Double(period) }
        }
        return value
    }
}
