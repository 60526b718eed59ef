/// The message-rate policy of one connection (SPEC §5, close 4429) on the owner's monotonic clock
/// (`now` in seconds, read by the owner and passed in).
///
/// A token bucket (`rate` per second, `burst`) decides which messages pass; the others are
/// dropped. Refused messages fill an excess counter that drains at `rate` per second, so a client
/// sending up to twice the limit only loses what is over it; one that keeps more than half of its
/// messages refused fills the counter and is closed once it holds more than `window` seconds'
/// worth of the limit (`rate × window`). A client at three times the limit is closed after about
/// `window` seconds, one flooding at 30 times within a fraction of a second once its burst is
/// spent; sending slower never lets the refusals of the past be forgotten faster than `rate`.
public struct MessageRateGuard: Sendable {
    /// What to do with one message.
    public enum Verdict: Sendable, Equatable {
        /// Within the limit: handle it.
        case pass
        /// Over the limit: drop it. `first`: the first refusal since a message passed (tell the
        /// client once, not for every dropped message).
        case refuse(first: Bool)
        /// Sustained excess: close the connection with 4429.
        case close
    }

    /// Seconds of the limit's worth of refusals (beyond the forgiven rate) that close.
    public let window: Double
    private var bucket: TokenBucket
    private var excess = 0.0
    private var drained: Double
    private var refusing = false

    /// A guard with a full bucket at `now`.
    public init(rate: Double, burst: Double, window: Double, now: Double) {
        bucket = TokenBucket(rate: rate, burst: max(1, burst), now: now)
        self.window = window
        drained = now
    }

    /// Refusals counted against the connection now (for tests and logs).
    public var pendingExcess: Double { excess }

    /// Judge one message arriving at `now`.
    public mutating func admit(now: Double) -> Verdict {
        excess = max(0, excess - max(0, now - drained) * bucket.rate)
        drained = max(drained, now)
        if bucket.take(now: now) {
            refusing = false
            return .pass
        }
        excess += 1
        if excess > bucket.rate * window { return .close }
        defer { refusing = true }
        return .refuse(first: !refusing)
    }
}
