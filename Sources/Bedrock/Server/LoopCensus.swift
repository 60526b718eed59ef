import Foundation

/// What the service loops of one gateway share: how many WebSocket connections each one holds
/// (for the connection limit, `/ready` and choosing where a new connection goes) and the session
/// counter. Any thread; every access holds the lock (taken once per connection event, never per
/// frame).
final class LoopCensus: @unchecked Sendable {
    // Sound: every access to the arrays and counters below holds `lock`.
    private let lock = NSLock()
    private var open: [Int]
    private var authenticated = 0
    private var sessions: UInt64 = 0
    private var turn = 0

    /// A census of `loops` service loops.
    init(loops: Int) { open = Array(repeating: 0, count: max(1, loops)) }

    /// Number of service loops.
    var loops: Int { open.count }

    /// WebSocket connections open across every loop.
    var totalOpen: Int { lock.lock(); defer { lock.unlock() }; return open.reduce(0, +) }

    /// WebSocket connections open on each loop, by loop index.
    var openPerLoop: [Int] { lock.lock(); defer { lock.unlock() }; return open }

    /// Authenticated WebSocket connections across every loop.
    var totalAuthenticated: Int { lock.lock(); defer { lock.unlock() }; return authenticated }

    /// A connection opened on `loop`; returns a session number unique in this process.
    func opened(on loop: Int) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        open[loop] += 1
        sessions += 1
        return sessions
    }

    /// A connection of `loop` closed (`wasAuthenticated`: it had been counted as authenticated).
    func closed(on loop: Int, wasAuthenticated: Bool) {
        lock.lock(); defer { lock.unlock() }
        open[loop] -= 1
        if wasAuthenticated { authenticated -= 1 }
    }

    /// A connection authenticated for the first time.
    func authenticatedOne() { lock.lock(); authenticated += 1; lock.unlock() }

    /// The loop a newly accepted connection should go to: the one holding the fewest WebSocket
    /// connections, taking turns among equals (so plain HTTP clients spread evenly too).
    func loopForNewConnection() -> Int {
        lock.lock(); defer { lock.unlock() }
        guard open.count > 1 else { return 0 }
        turn = (turn + 1) % open.count
        var best = turn
        for step in 1..<open.count {
            let candidate = (turn + step) % open.count
            if open[candidate] < open[best] { best = candidate }
        }
        return best
    }
}
