/// Highest or lowest value of the last `period` values, with a monotonic deque stored in a fixed
/// ring buffer: O(1) amortised per update, no allocation after creation. nil before `period`
/// values (use `partialValue` for the extreme of what has been seen so far).
public struct RollingExtreme: Sendable {
    /// Which extreme is tracked.
    public enum Kind: Sendable { case highest, lowest }

    /// Window length.
    public let period: Int
    /// Highest or lowest.
    public let kind: Kind
    private var values: [Double]  // ring of candidate values
    private var indices: [Int]  // ring of candidate positions (sequence numbers)
    private var head = 0  // ring index of the front (the extreme)
    private var size = 0
    private var seen = 0

    /// Creates a rolling extreme over `period` (≥ 1) values.
    public init(period: Int, kind: Kind) {
        precondition(period >= 1, "window must be at least 1")
        self.period = period
        self.kind = kind
        values = [Double](repeating: 0, count: period)
        indices = [Int](repeating: 0, count: period)
    }

    /// The extreme of the last `period` values, nil while fewer were seen.
    public var value: Double? { seen >= period ? values[head] : nil }

    /// The extreme of the last min(seen, period) values, nil before the first value.
    public var partialValue: Double? { size > 0 ? values[head] : nil }

    /// Adds a value and returns the new extreme (nil while warming up).
    @discardableResult
    public mutating func update(_ x: Double) -> Double? {
        // Drop the front when it left the window.
        if size > 0 && indices[head] <= seen - period {
            head = (head + 1) % period
            size -= 1
        }
        // Drop dominated candidates from the back.
        while size > 0 {
            let back = (head + size - 1) % period
            let dominated = kind == .highest ? values[back] <= x : values[back] >= x
            if !dominated { break }
            size -= 1
        }
        let slot = (head + size) % period
        values[slot] = x
        indices[slot] = seen
        size += 1
        seen += 1
        return value
    }
}
