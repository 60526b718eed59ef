import Foundation

/// The ledger snapshot (account, risk state, open positions) that `positions.estimate` reads,
/// shared by all API workers for at most `maxAge` seconds, so a burst of estimates costs one Redis
/// round trip per interval instead of one per request. Estimates are advisory: opening a position
/// re-checks everything atomically inside `open_position`, so a view this young changes nothing
/// that is acted upon.
final class SnapshotCache: @unchecked Sendable {
    // Sound: `cached` and `taken` are only touched while holding `lock`.
    private let lock = NSLock()
    private var cached: Ledger.Snapshot?
    private var taken = 0.0
    let maxAge: Double

    init(maxAge: Double = 0.05) { self.maxAge = maxAge }

    /// Forget the cached snapshot (after a write through this gateway's API, so its own caller
    /// sees the change at once).
    func invalidate() { lock.lock(); cached = nil; lock.unlock() }

    /// The cached snapshot when young enough, else a fresh one read on `connection`.
    func snapshot(_ ledger: Ledger, on connection: RedisConnection) throws -> Ledger.Snapshot {
        let now = ProcessInfo.processInfo.systemUptime
        lock.lock()
        if let cached, now - taken < maxAge { lock.unlock(); return cached }
        lock.unlock()
        let fresh = try ledger.snapshot(on: connection)
        lock.lock()
        cached = fresh
        taken = now
        lock.unlock()
        return fresh
    }
}
