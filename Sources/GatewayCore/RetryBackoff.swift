/// When to try a failed call again: exponential backoff with full jitter, bounded in attempts and
/// in delay. After the n-th failure the ceiling is `baseDelay · 2^(n-1)`, at most `maxDelay`, and
/// the wait is a uniform draw in [0, ceiling] (callers failing together spread out instead of
/// coming back at the same instant); after `maxAttempts` tries there is no further one.
///
/// The draw comes from `jitter` (a fraction in [0, 1]; values outside are clamped), injected so
/// tests can fix it.
public struct RetryBackoff: Sendable {
    /// Tries in all, the first included (at least 1).
    public let maxAttempts: Int
    /// Ceiling after the first failure, seconds.
    public let baseDelay: Double
    /// Largest ceiling, seconds.
    public let maxDelay: Double
    private let jitter: @Sendable () -> Double

    /// A schedule; `jitter` defaults to the system's random numbers.
    public init(
        maxAttempts: Int, baseDelay: Double, maxDelay: Double,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.jitter = jitter
    }

    /// The longest wait after `failures` failures in a row (at least 1).
    public func ceiling(afterFailures failures: Int) -> Double {
        let doublings = min(max(failures, 1) - 1, 62)
        return min(maxDelay, baseDelay * Double(UInt64(1) << UInt64(doublings)))
    }

    /// The wait before the next try after `failures` failures in a row, or nil when every try is
    /// spent.
    public func delay(afterFailures failures: Int) -> Double? {
        guard failures < maxAttempts else { return nil }
        return ceiling(afterFailures: failures) * min(1, max(0, jitter()))
    }
}
