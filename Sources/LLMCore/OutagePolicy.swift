import GatewayCore

/// The LLM failure policy of SPEC §12 as a pure value, shared by every task: honours
/// `Retry-After` (no call before it) and raises one `LLM_UNAVAILABLE` alert per outage rather
/// than one per call. (The gateway counts calls by task and outcome on `/metrics`.)
///
/// An outage starts when `alertAfter` failures follow each other with no success between them
/// (1 by default: the first failure after a success), and ends at the first success that comes
/// `quietPeriod` seconds or more after the last failure (600 by default): a model that fails
/// now and then, or fails one task while answering another, is one outage and one alert, not one
/// per flap. Every failure outcome counts, an unparseable answer included: to a user it is the
/// same fallback. Time is the monotonic clock of `ClockReading`.
public struct OutagePolicy: Sendable, Equatable {
    /// Consecutive failures that start an outage (at least 1).
    public let alertAfter: Int
    /// Failures since the last success.
    public private(set) var consecutiveFailures = 0
    /// Whether an outage is under way (its alert has been raised).
    public private(set) var inOutage = false
    /// Monotonic second before which no call may start (from the latest `Retry-After`), if any.
    public private(set) var retryNotBefore: Double?
    /// Seconds without a failure before a success ends an outage.
    public let quietPeriod: Double
    /// When the last failure was (monotonic), if any.
    public private(set) var lastFailureAt: Double?

    /// The longest `Retry-After` honoured, in seconds (a longer one is cut to this).
    public static let longestRetryAfter: Double = 3600

    /// A policy with no failures yet.
    public init(alertAfter: Int = 1, quietPeriod: Double = 600) {
        self.alertAfter = max(1, alertAfter)
        self.quietPeriod = max(0, quietPeriod)
    }

    /// Whether a call may start now: false while a `Retry-After` runs.
    public func mayCall(at now: ClockReading) -> Bool {
        guard let notBefore = retryNotBefore else { return true }
        return now.monotonic >= notBefore
    }

    /// A call of `task` succeeded at `now`. Returns `.recovered` when this ends an outage (the
    /// last failure is at least `quietPeriod` old).
    public mutating func succeeded(_ task: LLMTask, at now: ClockReading) -> OutageEvent? {
        consecutiveFailures = 0
        guard inOutage, now.monotonic - (lastFailureAt ?? -Double.infinity) >= quietPeriod else { return nil }
        inOutage = false
        return .recovered
    }

    /// A call of `task` failed with `outcome` (a failure outcome); `retryAfter` is the server's
    /// `Retry-After` in seconds, if it sent one. Returns `.unavailable` once per outage: on the
    /// failure that starts it.
    public mutating func failed(
        _ task: LLMTask, _ outcome: LLMOutcome, retryAfter: Double? = nil, at now: ClockReading
    ) -> OutageEvent? {
        precondition(outcome.isFailure, "failed(_:_:) needs a failure outcome")
        if let retryAfter, retryAfter > 0 {
            // A hostile or broken proxy must not stop every call for years.
            let wait = min(retryAfter, Self.longestRetryAfter)
            retryNotBefore = max(retryNotBefore ?? now.monotonic, now.monotonic + wait)
        }
        if outcome == .deferred { return nil }  // not a call: says nothing about the model
        consecutiveFailures += 1
        lastFailureAt = now.monotonic
        guard !inOutage, consecutiveFailures >= alertAfter else { return nil }
        inOutage = true
        return .unavailable(task: task, outcome: outcome, consecutiveFailures: consecutiveFailures)
    }
}

/// What the gateway does when the outage state changes.
public enum OutageEvent: Sendable, Equatable {
    /// Publish one `risk.alert` `LLM_UNAVAILABLE`: the call that started the outage and how many
    /// failures in a row led to it.
    case unavailable(task: LLMTask, outcome: LLMOutcome, consecutiveFailures: Int)
    /// The model answers again (log it; the next failure raises a new alert).
    case recovered

    /// The alert code of `risk.alert` for an outage.
    public static let alertCode = "LLM_UNAVAILABLE"
}
