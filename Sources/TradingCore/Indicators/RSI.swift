/// Relative strength index with Wilder's smoothing. Needs `period + 1` closes: the first average
/// gain/loss is the mean of the first `period` changes, then avg = (avg × (n − 1) + x) / n.
/// RSI = 100 − 100 / (1 + avgGain / avgLoss); 100 when there are no losses (50 when flat). O(1).
public struct RSI: Sendable {
    /// Period n.
    public let period: Int
    private var previousClose: Double?
    private var gainSum = 0.0
    private var lossSum = 0.0
    private var changes = 0
    private var averageGain = 0.0
    private var averageLoss = 0.0
    /// Current value 0...100, nil while warming up.
    public private(set) var value: Double?

    /// Creates an RSI over `period` (≥ 1) changes.
    public init(period: Int) {
        precondition(period >= 1, "RSI period must be at least 1")
        self.period = period
    }

    /// Adds a close and returns the new RSI (nil while warming up).
    @discardableResult
    public mutating func update(_ close: Double) -> Double? {
        defer { previousClose = close }
        guard let pc = previousClose else { return nil }
        let change = close - pc
        let gain = Swift.max(change, 0)
        let loss = Swift.max(-change, 0)
        let n = Double(period)
        if changes < period {
            gainSum += gain
            lossSum += loss
            changes += 1
            guard changes == period else { return nil }
            averageGain = gainSum / n
            averageLoss = lossSum / n
        } else {
            averageGain = (averageGain * (n - 1) + gain) / n
            averageLoss = (averageLoss * (n - 1) + loss) / n
        }
        if averageLoss == 0 {
            value = averageGain == 0 ? 50 : 100
        } else {
            value = 100 - 100 / (1 + averageGain / averageLoss)
        }
        return value
    }
}
