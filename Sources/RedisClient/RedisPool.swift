import Foundation

/// A small pool of blocking Redis connections for API handlers on the worker queue: a call
/// borrows one connection for its whole duration (one thread owns it meanwhile), then returns
/// it; a connection that broke is dropped, and the next call opens a fresh one.
public final class RedisPool: @unchecked Sendable {
    // Sound: `idle` is only touched under `lock`; a borrowed connection belongs to the single
    // thread running the closure until it is handed back.
    private let address: RedisAddress
    private let maxIdle: Int
    private var idle: [RedisConnection] = []
    private let lock = NSLock()

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
        lock.lock()
        let missing = min(count, maxIdle) - idle.count
        lock.unlock()
        guard missing > 0 else { return }
        var opened: [RedisConnection] = []
        for _ in 0..<missing {
            guard let connection = try? RedisConnection(address) else { break }
            opened.append(connection)
        }
        lock.lock()
        idle.append(contentsOf: opened.prefix(max(0, maxIdle - idle.count)))
        lock.unlock()
    }

    /// Idle connections (for tests and metrics).
    public var idleCount: Int { lock.lock(); defer { lock.unlock() }; return idle.count }

    /// Runs `body` with a connection of its own.
    public func with<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        lock.lock()
        let reused = idle.popLast()
        lock.unlock()
        let connection = try reused ?? RedisConnection(address)
        defer {
            if !connection.isBroken {
                lock.lock()
                if idle.count < maxIdle { idle.append(connection) }
                lock.unlock()
            }
        }
        return try body(connection)
    }
}
