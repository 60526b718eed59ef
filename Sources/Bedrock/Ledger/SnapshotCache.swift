import Dispatch
import Foundation
import GatewayCore
import RedisClient
import Synchronization

/// The ledger snapshot (account, risk state, open positions) that `positions.estimate` reads,
/// shared by all callers for at most `maxAge` seconds, so a burst of estimates costs one Redis
/// round trip per interval instead of one per request. Estimates are advisory: opening a position
/// re-checks everything atomically inside `open_position`, so a view this young changes nothing
/// that is acted upon.
///
/// Two ways in: `snapshot(_:on:)` (worker threads; reads Redis when the cache is stale) and
/// `current()` (any thread, the event loop included; never touches Redis). While `current()` is
/// being called, the cache keeps itself warm: once the snapshot is older than half of `maxAge`,
/// one background read (on `refresher`'s queue) replaces it, so a steady stream of estimates finds
/// it fresh and never waits for Redis.
final class SnapshotCache: Sendable {
    private struct State {
        var cached: Ledger.Snapshot?
        var taken = 0.0
        /// Bumped by `invalidate()`: a read that began before a write must not be stored after it.
        var generation = 0
        /// Bumped by every snapshot stored: names a snapshot for memos (two reads may share a time).
        var version: UInt64 = 0
        var refreshing = false
        var reader: (@Sendable () throws -> Ledger.Snapshot)?
    }

    private let state = Mutex(State())
    /// Runs the one background refresh at a time.
    private let refresher = WorkerPool(threads: 1, name: "bedrock-snapshot-refresh")
    let maxAge: Double
    /// The monotonic clock ages are measured on (tests move a `ManualClock`).
    private let clock: any GatewayClock

    init(maxAge: Double = 0.05, clock: any GatewayClock = SystemClock()) {
        self.maxAge = maxAge
        self.clock = clock
    }

    /// Lets `current()` refresh in the background with `read` (blocking; runs on a private queue).
    func keepWarm(with read: @escaping @Sendable () throws -> Ledger.Snapshot) {
        state.withLock { $0.reader = read }
    }

    /// Forget the cached snapshot (after a write through this gateway's API, so its own caller
    /// sees the change at once).
    func invalidate() {
        state.withLock {
            $0.cached = nil
            $0.generation += 1
        }
    }

    /// The cached snapshot when younger than `maxAge`, else nil (the caller then takes the
    /// blocking way). Never blocks on I/O; may start one background refresh.
    func current() -> (snapshot: Ledger.Snapshot, takenAt: Double, version: UInt64)? {
        let now = now()
        let (found, startRefresh) = state.withLock { s -> ((Ledger.Snapshot, Double, UInt64)?, Bool) in
            guard let cached = s.cached else { return (nil, false) }
            let age = now - s.taken
            var startRefresh = false
            if age >= maxAge / 2, !s.refreshing, s.reader != nil {
                s.refreshing = true
                startRefresh = true
            }
            return (age < maxAge ? (cached, s.taken, s.version) : nil, startRefresh)
        }
        if startRefresh { refresher.submit { [self] in refreshInBackground() } }
        return found.map { (snapshot: $0.0, takenAt: $0.1, version: $0.2) }
    }

    /// The cached snapshot when young enough, else a fresh one read on `connection`.
    func snapshot(_ ledger: Ledger, on connection: RedisConnection) throws -> Ledger.Snapshot {
        let now = now()
        let (young, before) = state.withLock { s -> (Ledger.Snapshot?, Int) in
            if let cached = s.cached, now - s.taken < maxAge { return (cached, s.generation) }
            return (nil, s.generation)
        }
        if let young { return young }
        let fresh = try ledger.snapshot(on: connection)
        store(fresh, takenAt: now, generation: before)
        return fresh
    }

    private func refreshInBackground() {
        let (read, before) = state.withLock { ($0.reader, $0.generation) }
        let started = now()
        let fresh = try? read?()
        state.withLock { $0.refreshing = false }
        if let fresh { store(fresh, takenAt: started, generation: before) }
    }

    /// Keep `fresh` unless a write invalidated the cache after the read began, or a younger
    /// snapshot is already there.
    private func store(_ fresh: Ledger.Snapshot, takenAt: Double, generation before: Int) {
        state.withLock {
            guard $0.generation == before, $0.cached == nil || takenAt > $0.taken else { return }
            $0.cached = fresh
            $0.taken = takenAt
            $0.version += 1
        }
    }

    /// Monotonic seconds.
    private func now() -> Double { clock.read().monotonic }
}
