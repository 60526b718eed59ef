import Synchronization

/// One dependency's `CircuitBreaker`, shared by every thread that calls it, on an injected clock.
/// Transitions go to `observer` (outside the lock) for logs and metrics.
///
/// Use: `decide()` before the call; `.refuse` means fail at once without calling; `.go(permit)`
/// means call, then `record(permit, reached:)` with whether the dependency answered (or
/// `abandon(permit)` when the call was not made after all).
///
/// Threading: the machine sits in a `Mutex`; any thread may call.
public final class SharedCircuitBreaker: Sendable {
    /// The dependency's name (`binance`, `bybit`, `llm`): the `dependency` label and the `/ready` key.
    public let dependency: String
    private let machine: Mutex<CircuitBreaker>
    private let clock: any GatewayClock
    private let observer: @Sendable (CircuitBreaker.Transition) -> Void

    /// A closed circuit for `dependency`.
    public init(
        dependency: String, failureThreshold: Int, cooldown: Double, clock: any GatewayClock,
        observer: @escaping @Sendable (CircuitBreaker.Transition) -> Void = { _ in }
    ) {
        self.dependency = dependency
        machine = Mutex(CircuitBreaker(failureThreshold: failureThreshold, cooldown: cooldown))
        self.clock = clock
        self.observer = observer
    }

    /// May a call start now? (See `CircuitBreaker.decide`.)
    public func decide() -> CircuitBreaker.Decision {
        let now = clock.read().monotonic
        return machine.withLock { $0.decide(at: now) }
    }

    /// Settles a call: `reached` when the dependency answered (whatever it said), false when it
    /// failed (no answer, timeout, 5xx, not its format).
    public func record(_ permit: CircuitBreaker.Permit, reached: Bool) {
        let now = clock.read().monotonic
        let transition = machine.withLock { reached ? $0.succeeded(permit) : $0.failed(permit, at: now) }
        if let transition { observer(transition) }
    }

    /// The call let through with `permit` was not made.
    public func abandon(_ permit: CircuitBreaker.Permit) {
        let now = clock.read().monotonic
        machine.withLock { $0.abandoned(permit, at: now) }
    }

    /// The state now.
    public var state: CircuitBreaker.State {
        let now = clock.read().monotonic
        return machine.withLock { $0.state(at: now) }
    }
}
