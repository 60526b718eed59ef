import Synchronization

/// A small pool of blocking Redis connections for API handlers on the worker queue: a call
/// borrows one connection for its whole duration (one thread owns it meanwhile), then returns
/// it; a connection that broke is dropped, together with the idle ones to the same server unless
/// it only timed out, and the next call opens a fresh one (for a Sentinel address: to the master
/// of the moment).
///
/// Inside `RedisDeadline.bounded(by:_:)` the borrowed connection carries that deadline: opening
/// it and every command end by then (a connection that ran out of time is broken and dropped).
public final class RedisPool: Sendable {
    private let address: RedisAddress
    private let maxIdle: Int
    /// Idle connections; a borrowed one belongs to the single thread running the closure until
    /// it is handed back.
    private let idle = Mutex<[RedisConnection]>([])

    /// A pool for `address` keeping at most `maxIdle` idle connections.
    public init(address: RedisAddress, maxIdle: Int = 64) {
        self.address = address
        self.maxIdle = maxIdle
    }

    /// Opens connections until `count` (at most `maxIdle`) are idle; best effort, stops at the
    /// first failure (Redis down: later calls open theirs as usual). A pool opened up front to the
    /// number of threads that can use it at once never opens more, so the gateway's descriptor
    /// count does not creep up the first time a burst reaches that peak.
    public func prewarm(_ count: Int) {
        let missing = min(count, maxIdle) - idle.withLock { $0.count }
        guard missing > 0 else { return }
        var opened: [RedisConnection] = []
        for _ in 0..<missing {
            guard let connection = try? RedisConnection(address) else { break }
            opened.append(connection)
        }
        idle.withLock { $0.append(contentsOf: opened.prefix(max(0, maxIdle - $0.count))) }
    }

    /// Idle connections (for tests and metrics).
    public var idleCount: Int { idle.withLock { $0.count } }

    /// Runs `body` with a connection of its own, bounded by `RedisDeadline.current` when bound.
    public func with<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        let deadline = RedisDeadline.current
        let reused = idle.withLock { $0.popLast() }
        let connection = try reused ?? open(by: deadline)
        connection.deadline = deadline
        defer {
            connection.deadline = nil
            if !connection.isBroken {
                idle.withLock { if $0.count < maxIdle { $0.append(connection) } }
            } else if !connection.brokeOnTimeout {
                // Lost, or a failover reply: its idle siblings on the same server most likely
                // broke too (a restart, a failover): drop them, so the next calls connect afresh
                // instead of failing once each. A single slow reply says nothing about them.
                idle.withLock { $0.removeAll { $0.server == connection.server } }
            }
        }
        return try body(connection)
    }

    /// A new connection; with a deadline, its connect and `AUTH`/`SELECT` end by then.
    private func open(by deadline: ContinuousClock.Instant?) throws(RedisError) -> RedisConnection {
        guard let deadline else { return try RedisConnection(address) }
        let left = RedisDeadline.secondsLeft(until: deadline)
        guard left >= 0.001 else { throw .connect("\(address): no time left before the deadline") }
        return try RedisConnection(address, connectTimeout: min(2, left), deadline: deadline)
    }
}
