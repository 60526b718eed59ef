/// Exponential moving average with α = 2 / (period + 1), seeded with the SMA of the first
/// `period` values; nil before that. O(1) per update.
public struct EMA: Sendable {
    /// Period n.
    public let period: Int
    /// Smoothing factor 2 / (n + 1).
    public let alpha: Double
    private var seedSum = 0.0
    private var count = 0
    /// Current value, nil while warming up.
    public private(set) var value: Double?

    /// Creates an EMA over `period` (≥ 1) values.
    public init(period: Int) {
        precondition(period >= 1, "EMA period must be at least 1")
        self.period = period
        alpha = 2.0 / Double(period + 1)
    }

    /// Adds a value and returns the new EMA (nil while warming up).
    @discardableResult
    public mutating func update(_ x: Double) -> Double? {
        if let v = value {
            value = v + alpha * (x - v)
        } else {
            seedSum += x
            count += 1
            if count == period { value = seedSum / Double(period) }
        }
        return value
    }
}
