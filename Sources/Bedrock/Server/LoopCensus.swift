import Synchronization

/// What the service loops of one gateway share: how many WebSocket connections each one holds
/// (for the connection limit, `/ready` and choosing where a new connection goes) and the session
/// counter, and how many each peer address holds (`server.max_connections_per_ip`). Any thread;
/// the state sits in one `Mutex` (taken once per connection event, never per frame).
final class LoopCensus: Sendable {
    private struct State {
        var open: [Int]
        var authenticated = 0
        var sessions: UInt64 = 0
        var turn = 0
        /// Open connections by peer address; an address leaves when its last one closes.
        var byAddress: [String: Int] = [:]
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

    /// What the budgets of a new connection are judged on (`ConnectionBudget`).
    func occupancy(of address: String) -> ConnectionBudget.Occupancy {
        state.withLock {
            let open = $0.open.reduce(0, +)
            return ConnectionBudget.Occupancy(
                authenticated: $0.authenticated, unauthenticated: open - $0.authenticated,
                fromAddress: $0.byAddress[address, default: 0])
        }
    }

    /// A connection from `address` opened on `loop`; returns a session number unique in this
    /// process.
    func opened(on loop: Int, address: String? = nil) -> UInt64 {
        state.withLock {
            $0.open[loop] += 1
            if let address { $0.byAddress[address, default: 0] += 1 }
            $0.sessions += 1
            return $0.sessions
        }
    }

    /// A connection of `loop` from `address` closed (`wasAuthenticated`: it had been counted as
    /// authenticated).
    func closed(on loop: Int, wasAuthenticated: Bool, address: String? = nil) {
        state.withLock {
            $0.open[loop] -= 1
            if wasAuthenticated { $0.authenticated -= 1 }
            if let address, let held = $0.byAddress[address] { $0.byAddress[address] = held > 1 ? held - 1 : nil }
        }
    }

    /// A connection authenticated for the first time: counted unless `limit` authenticated
    /// connections are open already (then false, and the caller closes it with 4503).
    @discardableResult
    func authenticatedOne(limit: Int = .max) -> Bool {
        state.withLock {
            guard $0.authenticated < limit else { return false }
            $0.authenticated += 1
            return true
        }
    }

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
