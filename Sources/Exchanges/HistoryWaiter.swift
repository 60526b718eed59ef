import Foundation

/// How a `HistoryClient` waits out its pacer and its retries: it blocks the calling thread until a
/// deadline on the client's monotonic clock. `cancel()` ends every current and later wait at once, so a shutdown
/// never sits out a 60 s `Retry-After`. Injected: tests move a manual clock instead of sleeping.
public protocol HistoryWaiter: Sendable {
    /// Blocks until the monotonic time `deadline` (it is `now`), or less once cancelled.
    func wait(until deadline: Double, now: Double)
    /// Ends every current and later wait at once.
    func cancel()
}

/// The waiter on real time: a condition variable that `cancel()` signals.
///
/// Threading: any thread may wait or cancel; `condition` (an NSCondition, a mutex with a
/// condition variable) guards `cancelled`, which is why the class is `@unchecked Sendable`.
public final class SystemHistoryWaiter: HistoryWaiter, @unchecked Sendable {
    private let condition = NSCondition()
    private var cancelled = false

    /// A waiter that sleeps until cancelled.
    public init() {}

    /// Sleeps until `deadline` (`deadline - now` seconds), or until `cancel()`.
    public func wait(until deadline: Double, now: Double) {
        guard deadline > now else { return }
        let wakeUp = Date(timeIntervalSinceNow: deadline - now)
        condition.lock()
        defer { condition.unlock() }
        while !cancelled, condition.wait(until: wakeUp) {}
    }

    /// Wakes every waiter, now and later.
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
