/// A token bucket: `rate` messages per second with a burst of `burst`, on a monotonic clock
/// (`now` in seconds) that the owner reads and passes in.
public struct TokenBucket: Sendable {
    /// Tokens added per second.
    public let rate: Double
    /// Most tokens held at once.
    public let burst: Double
    /// Tokens available now.
    public private(set) var tokens: Double
    private var last: Double

    /// A full bucket at `now`.
    public init(rate: Double, burst: Double, now: Double) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        last = now
    }

    /// Take one token if there is one.
    public mutating func take(now: Double) -> Bool {
        tokens = min(burst, tokens + (now - last) * rate)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
