import Dispatch
import Foundation
import GatewayCore
import RedisClient

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
final class SnapshotCache: @unchecked Sendable {
    // Sound: `cached`, `taken`, `generation` and `refreshing` are only touched while holding
    // `lock`; `reader` is set once before the gateway serves.
    private let lock = NSLock()
    private var cached: Ledger.Snapshot?
    private var taken = 0.0
    /// Bumped by `invalidate()`: a read that began before a write must not be stored after it.
    private var generation = 0
    /// Bumped by every snapshot stored: names a snapshot for memos (two reads may share a time).
    private var version: UInt64 = 0
    private var refreshing = false
    private var reader: (@Sendable () throws -> Ledger.Snapshot)?
    private let refresher = DispatchQueue(label: "bedrock-snapshot-refresh", qos: .userInitiated)
    let maxAge: Double
    /// The monotonic clock ages are measured on (tests move a `ManualClock`).
    private let clock: any GatewayClock

    init(maxAge: Double = 0.05, clock: any GatewayClock = SystemClock()) {
        self.maxAge = maxAge
        self.clock = clock
    }

    /// Lets `current()` refresh in the background with `read` (blocking; runs on a private queue).
    func keepWarm(with read: @escaping @Sendable () throws -> Ledger.Snapshot) {
        lock.lock(); reader = read; lock.unlock()
    }

    /// Forget the cached snapshot (after a write through this gateway's API, so its own caller
    /// sees the change at once).
    func invalidate() { lock.lock(); cached = nil; generation += 1; lock.unlock() }

    /// The cached snapshot when younger than `maxAge`, else nil (the caller then takes the
    /// blocking way). Never blocks on I/O; may start one background refresh.
    func current() -> (snapshot: Ledger.Snapshot, takenAt: Double, version: UInt64)? {
        let now = now()
        lock.lock()
        guard let cached else { lock.unlock(); return nil }
        let taken = self.taken, version = self.version
        let age = now - taken
        var startRefresh = false
        if age >= maxAge / 2, !refreshing, reader != nil {
            refreshing = true
            startRefresh = true
        }
        lock.unlock()
        if startRefresh { refresher.async { [self] in refreshInBackground() } }
        return age < maxAge ? (cached, taken, version) : nil
    }

    /// The cached snapshot when young enough, else a fresh one read on `connection`.
    func snapshot(_ ledger: Ledger, on connection: RedisConnection) throws -> Ledger.Snapshot {
        let now = now()
        lock.lock()
        if let cached, now - taken < maxAge { lock.unlock(); return cached }
        let before = generation
        lock.unlock()
        let fresh = try ledger.snapshot(on: connection)
        store(fresh, takenAt: now, generation: before)
        return fresh
    }

    private func refreshInBackground() {
        lock.lock()
        let read = reader
        let before = generation
        lock.unlock()
        let started = now()
        let fresh = try? read?()
        lock.lock()
        refreshing = false
        lock.unlock()
        if let fresh { store(fresh, takenAt: started, generation: before) }
    }

    /// Keep `fresh` unless a write invalidated the cache after the read began, or a younger
    /// snapshot is already there.
    private func store(_ fresh: Ledger.Snapshot, takenAt: Double, generation before: Int) {
        lock.lock()
        if generation == before, cached == nil || takenAt > taken {
            cached = fresh
            taken = takenAt
            version += 1
        }
        lock.unlock()
    }

    /// Monotonic seconds.
    private func now() -> Double { clock.read().monotonic }
}
