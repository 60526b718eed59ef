import Synchronization

/// The services `bedrock serve` runs (embedded Redis, jobs, engine, metrics refresher, Redis
/// bridge, service loops), in the order they started: each is added right after it starts, and
/// `stopAll` stops them in reverse, each once — also when a later start failed. One list, so the
/// order is written down in one place (docs/THREADS.md) instead of scattered `defer`s.
final class ServiceList: Sendable {
    private let stops = Mutex<[(name: String, stop: @Sendable () -> Void)]>([])

    /// `name` started; `stop` ends it (called at most once, by `stopAll`).
    func started(_ name: String, stop: @escaping @Sendable () -> Void) {
        stops.withLock { $0.append((name, stop)) }
    }

    /// Names of the running services, in start order.
    var running: [String] { stops.withLock { $0.map(\.name) } }

    /// Stop every service, newest first; `willStop` hears each name before its stop runs.
    func stopAll(willStop: (String) -> Void = { _ in }) {
        while let next = stops.withLock({ $0.popLast() }) {
            willStop(next.name)
            next.stop()
        }
    }
}
