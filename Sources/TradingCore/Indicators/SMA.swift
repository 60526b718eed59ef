/// Simple moving average: the mean of the last `period` values; undefined (nil) before `period`
/// values. O(1) per update with a ring buffer and a compensated (Neumaier) running sum, so long
/// runs do not drift.
public struct SMA: Sendable {
    /// Window length.
    public let period: Int
    private var window: [Double]
    private var next = 0
    private var filled = 0
    private var sum = 0.0
    private var compensation = 0.0

    /// Creates an SMA over `period` (≥ 1) values.
    public init(period: Int) {
        precondition(period >= 1, "SMA period must be at least 1")
        self.period = period
        window = [Double](repeating: 0, count: period)
    }

    /// The current mean, nil until `period` values were seen.
    public var value: Double? { filled == period ? (sum + compensation) / Double(period) : nil }

    /// Adds a value and returns the new mean (nil while warming up).
    @discardableResult
    public mutating func update(_ x: Double) -> Double? {
        if filled == period { add(-window[next]) } else { filled += 1 }
        window[next] = x
        add(x)
        next += 1
        if next == period { next = 0 }
        return value
    }

    private mutating func add(_ x: Double) {
        let t = sum + x
        if abs(sum) >= abs(x) { compensation += (sum - t) + x } else { compensation += (x - t) + sum }
        sum = t
    }
}
