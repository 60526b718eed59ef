import Synchronization

/// What the service loops of one gateway share: how many WebSocket connections each one holds
/// (for the connection limit, `/ready` and choosing where a new connection goes) and the session
/// counter. Any thread; the state sits in one `Mutex` (taken once per connection event, never per
/// frame).
final class LoopCensus: Sendable {
    private struct State {
        var open: [Int]
        var authenticated = 0
        var sessions: UInt64 = 0
        var turn = 0
    }

    private let state: Mutex<State>
    /// Number of service loops.
    let loops: Int

    /// A census of `loops` service loops.
    init(loops: Int) {
        self.loops = max(1, loops)
        state = Mutex(State(open: Array(repeating: 0, count: max(1, loops))))
    }

    /// WebSocket connections open across every loop.
    var totalOpen: Int { state.withLock { $0.open.reduce(0, +) } }

    /// WebSocket connections open on each loop, by loop index.
    var openPerLoop: [Int] { state.withLock { $0.open } }

    /// Authenticated WebSocket connections across every loop.
    var totalAuthenticated: Int { state.withLock { $0.authenticated } }

    /// A connection opened on `loop`; returns a session number unique in this process.
    func opened(on loop: Int) -> UInt64 {
        state.withLock {
            $0.open[loop] += 1
            $0.sessions += 1
            return $0.sessions
        }
    }

    /// A connection of `loop` closed (`wasAuthenticated`: it had been counted as authenticated).
    func closed(on loop: Int, wasAuthenticated: Bool) {
        state.withLock {
            $0.open[loop] -= 1
            if wasAuthenticated { $0.authenticated -= 1 }
        }
    }

    /// A connection authenticated for the first time.
    func authenticatedOne() { state.withLock { $0.authenticated += 1 } }

    /// The loop a newly accepted connection should go to: the one holding the fewest WebSocket
    /// connections, taking turns among equals (so plain HTTP clients spread evenly too).
    func loopForNewConnection() -> Int {
        state.withLock { census in
            guard census.open.count > 1 else { return 0 }
            census.turn = (census.turn + 1) % census.open.count
            var best = census.turn
            for step in 1..<census.open.count {
                let candidate = (census.turn + step) % census.open.count
                if census.open[candidate] < census.open[best] { best = candidate }
            }
            return best
        }
    }
}
