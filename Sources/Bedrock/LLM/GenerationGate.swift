import Synchronization

/// How many journal and review calls may wait on the model at once. Each holds an API worker for
/// as long as the model takes (tens of seconds), so without a bound a burst of them would take
/// every worker and every other API call would time out behind them. Past the bound a call is
/// answered UNAVAILABLE at once. Any thread.
final class GenerationGate: Sendable {
    /// Calls allowed at once.
    let limit: Int
    private let inside = Atomic<Int>(0)

    /// A gate letting `limit` (at least 1) calls through at once.
    init(limit: Int) { self.limit = max(1, limit) }

    /// Runs `body` when fewer than `limit` calls are inside, else throws UNAVAILABLE "busy".
    func pass<T>(_ body: () throws -> T) throws -> T {
        let before = inside.add(1, ordering: .acquiringAndReleasing).oldValue
        defer { inside.subtract(1, ordering: .acquiringAndReleasing) }
        guard before < limit else {
            throw APIError(
                .unavailable, "\(limit) journal or review calls are being written already; try again shortly")
        }
        return try body()
    }
}
