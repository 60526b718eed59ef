/// A circuit breaker for one outside dependency (an exchange's REST API, the LLM provider), as a
/// pure state machine on monotonic seconds (`ClockReading.monotonic`, passed in):
///
/// - closed: every call goes; `failureThreshold` failures in a row (no success between them)
///   open the circuit.
/// - open: no call goes for `cooldown` seconds; the caller gets its failure at once.
/// - half-open: the cool-down is over; the next caller makes exactly one real call, the probe,
///   while every other caller is still refused. The probe's success closes the circuit, its
///   failure opens it for another `cooldown`.
///
/// A result of a call that started before the circuit opened (or that is not the probe) changes
/// nothing once the circuit is open or half-open: only the probe decides. Every call let through
/// must be settled: `succeeded`, `failed`, or `abandoned` when it was not made after all.
/// What counts as a failure is the caller's choice: no answer, a timeout, a 5xx, an answer that is
/// not the API's format; an answer that refuses the request (a 4xx, a rate limit) is the
/// dependency working.
public struct CircuitBreaker: Sendable, Equatable {
    /// What `/ready` and `/metrics` show.
    public enum State: String, Sendable, Equatable, CaseIterable {
        /// Calls go.
        case closed
        /// The cool-down is over: one probe call decides (in flight, or the next call).
        case halfOpen = "half_open"
        /// No call goes until the cool-down ends.
        case open

        /// `bedrock_circuit_state`: 0 closed, 1 half-open, 2 open.
        public var gaugeValue: Double {
            switch self {
            case .closed: return 0
            case .halfOpen: return 1
            case .open: return 2
            }
        }
    }

    /// The kind of call a caller was let through for.
    public enum Permit: Sendable, Equatable {
        /// An ordinary call (the circuit is closed).
        case call
        /// The one trial call of a half-open circuit.
        case probe
    }

    /// Whether a call may be made now.
    public enum Decision: Sendable, Equatable {
        /// Make the call, then settle it with this permit.
        case go(Permit)
        /// Do not call: the circuit is open for `retryIn` more seconds, or (nil) half-open with its
        /// probe in flight.
        case refuse(retryIn: Double?)
    }

    /// A change worth a log line and a metric.
    public enum Transition: Sendable, Equatable {
        /// The circuit opened after `consecutiveFailures` failures in a row (a failed probe
        /// included).
        case opened(consecutiveFailures: Int)
        /// The probe succeeded: calls go again.
        case closed
    }

    private enum Phase: Sendable, Equatable {
        case closed
        case open(until: Double)
        case probing
    }

    /// Failures in a row that open the circuit (at least 1).
    public let failureThreshold: Int
    /// Seconds the circuit stays open before a probe.
    public let cooldown: Double
    /// Failures since the last success.
    public private(set) var consecutiveFailures = 0
    private var phase = Phase.closed

    /// A closed circuit.
    public init(failureThreshold: Int = 5, cooldown: Double = 30) {
        self.failureThreshold = max(1, failureThreshold)
        self.cooldown = max(0, cooldown)
    }

    /// The state at `now` (an open circuit whose cool-down has ended is half-open).
    public func state(at now: Double) -> State {
        switch phase {
        case .closed: return .closed
        case .probing: return .halfOpen
        case .open(let until): return now >= until ? .halfOpen : .open
        }
    }

    /// May a call start at `now`? The first caller after the cool-down gets the probe.
    public mutating func decide(at now: Double) -> Decision {
        switch phase {
        case .closed:
            return .go(.call)
        case .open(let until) where now >= until:
            phase = .probing
            return .go(.probe)
        case .open(let until):
            return .refuse(retryIn: until - now)
        case .probing:
            return .refuse(retryIn: nil)
        }
    }

    /// The call let through with `permit` got its answer.
    public mutating func succeeded(_ permit: Permit) -> Transition? {
        switch (phase, permit) {
        case (.closed, _):
            consecutiveFailures = 0
            return nil
        case (.probing, .probe):
            phase = .closed
            consecutiveFailures = 0
            return .closed
        default:
            return nil
        }
    }

    /// The call let through with `permit` failed at `now`.
    public mutating func failed(_ permit: Permit, at now: Double) -> Transition? {
        switch (phase, permit) {
        case (.closed, _):
            consecutiveFailures += 1
            guard consecutiveFailures >= failureThreshold else { return nil }
        case (.probing, .probe):
            consecutiveFailures += 1
        default:
            return nil
        }
        phase = .open(until: now + cooldown)
        return .opened(consecutiveFailures: consecutiveFailures)
    }

    /// The call let through with `permit` was not made after all (shutdown, no free slot): a
    /// probe goes back, so the next caller probes.
    public mutating func abandoned(_ permit: Permit, at now: Double) {
        if permit == .probe, phase == .probing { phase = .open(until: now) }
    }
}
