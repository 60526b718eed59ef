/// When a notification (a webhook POST, a Telegram message) is tried again and when it is given up:
/// a pure state machine over the times of its attempts, tested with an injected clock.
///
/// - A 2xx answer (`Outcome.delivered`) ends the delivery.
/// - Any other answer or no answer (`Outcome.failed`) is tried again after an exponential backoff
///   with full jitter (`RetryBackoff`, capped at `backoff.maxDelay`), or after the receiver's own
///   wait (`retryAfter`, e.g. Telegram's `parameters.retry_after`) when that is longer — but
///   never later than the end of the retry window, so the last try falls at its end.
/// - A failure at or after `retryWindow` seconds from the first attempt is final: the delivery is
///   dead (the caller keeps it in the dead-letter stream).
///
/// Times are seconds on the clock the caller stores with the delivery. The deliveries live in
/// Redis and are shared by every gateway, so the caller uses wall time there (a monotonic reading
/// means nothing to another process).
public struct DeliveryPolicy: Sendable {
    /// How one attempt ended.
    public enum Outcome: Sendable, Equatable {
        /// The receiver took it (2xx).
        case delivered
        /// Anything else; `retryAfter` is the receiver's own wait in seconds, when it gave one.
        case failed(retryAfter: Double?)
    }

    /// What to do after an attempt.
    public enum Decision: Sendable, Equatable {
        /// Delivered: acknowledge it.
        case done
        /// Try again at this time.
        case retry(at: Double)
        /// Give up: into the dead-letter stream.
        case dead
    }

    /// Seconds from the first attempt after which a failure is final.
    public let retryWindow: Double
    /// The wait between tries (its `maxAttempts` is unbounded here: the window ends the retries).
    public let backoff: RetryBackoff

    /// A policy: waits of up to `baseDelay · 2^(n-1)` seconds after the n-th failure, at most
    /// `maxDelay`, for `retryWindow` seconds; `jitter` as in `RetryBackoff`.
    public init(
        retryWindow: Double, baseDelay: Double, maxDelay: Double,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.retryWindow = max(0, retryWindow)
        backoff = RetryBackoff(maxAttempts: Int.max, baseDelay: baseDelay, maxDelay: maxDelay, jitter: jitter)
    }

    /// The decision after attempt number `attempts` (1 for the first) ended with `outcome` at
    /// `now`, the first attempt having been made at `firstAttempt`.
    public func decide(_ outcome: Outcome, attempts: Int, firstAttempt: Double, now: Double) -> Decision {
        guard case .failed(let retryAfter) = outcome else { return .done }
        let windowEnd = firstAttempt + retryWindow
        guard now < windowEnd else { return .dead }
        let wait = max(backoff.delay(afterFailures: max(1, attempts)) ?? backoff.maxDelay, retryAfter ?? 0)
        return .retry(at: min(now + wait, windowEnd))
    }
}
