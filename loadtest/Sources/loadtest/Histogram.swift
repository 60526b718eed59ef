/// A log-linear latency histogram in the spirit of HdrHistogram: values below 128 have their own
/// bucket; above, each power of two is split into 64 buckets, so a recorded value is known to
/// within 1/64 (~1.6 %). Fixed size (3,776 counters), no allocation per value. One thread.
struct Histogram {
    private static let subBits = 6
    private static let bucketCount = 128 + 57 * 64
    private var counts = [UInt64](repeating: 0, count: Histogram.bucketCount)
    /// Values recorded.
    private(set) var total: UInt64 = 0
    /// Smallest and largest values recorded (exact).
    private(set) var min: UInt64 = .max
    private(set) var max: UInt64 = 0

    /// Bucket of `value`.
    static func index(_ value: UInt64) -> Int {
        if value < 128 { return Int(value) }
        let msb = 63 - value.leadingZeroBitCount
        let shift = msb - subBits
        let mantissa = Int(value >> UInt64(shift))  // 64...127
        return 128 + (shift - 1) * 64 + (mantissa - 64)
    }

    /// Highest value that falls into bucket `index`.
    static func upperBound(_ index: Int) -> UInt64 {
        if index < 128 { return UInt64(index) }
        let shift = (index - 128) / 64 + 1
        let mantissa = UInt64((index - 128) % 64 + 64)
        return ((mantissa + 1) &<< UInt64(shift)) &- 1
    }

    /// Count `value` (`n` times).
    mutating func record(_ value: UInt64, count n: UInt64 = 1) {
        counts[Histogram.index(value)] &+= n
        total &+= n
        if value < min { min = value }
        if value > max { max = value }
    }

    /// Add every count of `other`.
    mutating func merge(_ other: Histogram) {
        for i in 0..<counts.count { counts[i] &+= other.counts[i] }
        total &+= other.total
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    /// The value at percentile `p` (0–100): the upper bound of the bucket holding it, never above
    /// the exact maximum. 0 when empty.
    func percentile(_ p: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((p / 100 * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for i in 0..<counts.count where counts[i] > 0 {
            seen &+= counts[i]
            if seen >= rank { return Swift.min(Histogram.upperBound(i), max) }
        }
        return max
    }
}
