/// When to reconnect a dropped exchange WebSocket (SPEC §10): 1 s, doubling to 60 s, each delay
/// jittered by ±`jitter` (never above the cap) with an injected random source; a connection that
/// stayed up `stableAfter` seconds resets the doubling. Times are monotonic seconds.
public struct ReconnectBackoff: Sendable, Equatable {
    /// First delay, seconds.
    public let base: Double
    /// Longest delay, seconds.
    public let cap: Double
    /// Relative jitter (0.2: ±20 %).
    public let jitter: Double
    /// Seconds a connection must last to reset the doubling.
    public let stableAfter: Double
    /// Drops and failed attempts since the last stable connection.
    public private(set) var failures = 0
    private var connectedAt: Double?

    /// A back-off (defaults: 1 s doubling to 60 s, ±20 %, reset after 60 s connected).
    public init(base: Double = 1, cap: Double = 60, jitter: Double = 0.2, stableAfter: Double = 60) {
        self.base = base; self.cap = cap; self.jitter = jitter; self.stableAfter = stableAfter
    }

    /// The connection is up (subscribed) at `now`.
    public mutating func connected(now: Double) { connectedAt = now }

    /// The connection dropped (or an attempt failed) at `now`: the time of the next attempt.
    public mutating func nextAttempt(now: Double, using random: inout some RandomNumberGenerator) -> Double {
        if let since = connectedAt, now - since >= stableAfter { failures = 0 }
        connectedAt = nil
        let nominal = min(cap, base * Double(1 << min(failures, 30)))
        failures += 1
        let factor = 1 + jitter * Double.random(in: -1...1, using: &random)
        return now + min(cap, nominal * factor)
    }
}
