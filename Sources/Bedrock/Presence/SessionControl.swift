import Foundation
import GatewayCore
import Logging
import RedisClient
import Synchronization

/// The `bedrock-presence` thread: the one place this gateway talks to Redis about sessions, on
/// its own connection. In turn, it
/// - publishes the `PresenceBook`'s summary as this gateway's (`PresenceStore.publish`): soon
///   after a change (at most every `changeInterval`), and every third of `presence.ttl_s` anyway,
///   so the summary of a gateway that dies expires within the TTL;
/// - reads the control stream (`XREAD BLOCK`, a short block so the other duties keep their
///   pace) and hands each disconnect order to `closeSessions` (which posts to every loop). It
///   starts after the stream's newest entry as read once at start, before the gateway serves,
///   and keeps its place across reconnects, so no order sent while Redis was away is lost;
/// - checks the revoked hash's version every `reloadInterval` and reloads the hash when it moved
///   (and every `fullReloadInterval` anyway: a hand edit that did not bump the version), in one
///   `MULTI` with the pending orders, which it handles first (an admin disconnect closes with
///   4403 even when it revokes); it closes the open connections of users revoked meanwhile.
/// The loops never wait for it: they only write to the book. `stop()` withdraws the summary.
final class SessionControl: Sendable {
    /// What to close: every connection of `sub` (`issuedBeforeMillis` nil: an admin disconnect,
    /// 4403), or those whose token was issued before then (a revocation found in the hash, 4401).
    typealias Closer = @Sendable (_ sub: String, _ issuedBeforeMillis: Int64?) -> Void

    /// This gateway's id (`<hostname>-<pid>-<random>`).
    let gatewayID: String
    private let address: RedisAddress
    private let store: PresenceStore
    private let book: PresenceBook
    private let revocations: Revocations
    private let ttl: Double
    private let closeSessions: Closer
    private let clock: any GatewayClock
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let log = Logger(label: "bedrock.presence")

    /// Seconds between a change of the book and its publication, at the soonest.
    static let changeInterval = 0.2
    /// Seconds between checks of the revoked hash's version.
    static let reloadInterval = 1.0
    /// Seconds between reloads of the revoked hash whatever its version says.
    static let fullReloadInterval = 30.0
    /// Milliseconds one control read waits.
    static let blockMillis = 100

    init(
        gatewayID: String, address: RedisAddress, store: PresenceStore, book: PresenceBook, revocations: Revocations,
        ttl: Double, clock: any GatewayClock = SystemClock(), closeSessions: @escaping Closer
    ) {
        self.gatewayID = gatewayID
        self.address = address
        self.store = store
        self.book = book
        self.revocations = revocations
        self.ttl = ttl
        self.clock = clock
        self.closeSessions = closeSessions
    }

    /// A new gateway id: `<hostname>-<pid>-<8 random hex digits>`.
    static func makeGatewayID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(getpid())-\(String(format: "%08x", UInt32.random(in: .min ... .max)))"
    }

    /// Start the thread, after loading the revoked hash and reading where the control stream
    /// ends (when Redis answers now; else on the thread's first connection) so no revoked token
    /// gets in and no order is missed while the thread starts.
    func start() {
        var tail: String?
        if let redis = try? RedisConnection(address, connectTimeout: 1, readTimeout: 2),
            let end = try? store.controlTail(on: redis), let all = try? store.revocations(on: redis)
        {
            revocations.replace(with: all)
            tail = end
        }
        let thread = Thread { [self, tail] in
            run(tail: tail)
            finished.signal()
        }
        thread.name = "bedrock-presence"
        thread.start()
    }

    /// End the thread (within one control read) and withdraw this gateway's summary.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        finished.wait()
        if let redis = try? RedisConnection(address, connectTimeout: 1, readTimeout: 1) {
            try? store.withdraw(gateway: gatewayID, on: redis)
        }
    }

    private struct Progress {
        var redis: RedisConnection?
        /// The last control entry handled (the stream's end once `tailRead`).
        var lastID = "0-0"
        var tailRead = false
        var published: UInt64?
        var publishedAt = -Double.infinity
        var checkedAt = -Double.infinity
        var reloadedAt = -Double.infinity
        /// The revoked hash's version last loaded; nil: load it whatever the version says.
        var revocationsVersion: Int64?
    }

    private func run(tail: String?) {
        var progress = Progress()
        if let tail {
            progress.lastID = tail
            progress.tailRead = true
        }
        while !stopped.load(ordering: .relaxed) {
            do {
                try step(&progress)
            } catch {
                if progress.redis != nil { log.warning("presence: Redis failed (\(error)); retrying") }
                progress.redis = nil
                progress.published = nil
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
    }

    private func step(_ progress: inout Progress) throws {
        let redis: RedisConnection
        if let open = progress.redis {
            redis = open
        } else {
            redis = try RedisConnection(address, connectTimeout: 1, readTimeout: 2)
            if !progress.tailRead {
                progress.lastID = try store.controlTail(on: redis)
                progress.tailRead = true
            }
            progress.redis = redis
            progress.revocationsVersion = nil
        }
        let now = clock.read().monotonic
        if now - progress.checkedAt >= SessionControl.reloadInterval {
            try reloadRevocations(&progress, now: now, on: redis)
            progress.checkedAt = now
        }
        let version = book.version
        let changed = version != progress.published
        if now - progress.publishedAt >= ttl / 3 || (changed && now - progress.publishedAt >= SessionControl.changeInterval) {
            let nowMillis = Int64(clock.read().wall * 1000)
            let extended = try store.publish(
                changed ? (version, book.summary()) : nil, gateway: gatewayID, nowMillis: nowMillis,
                ttlMillis: Int64(ttl * 1000), on: redis)
            progress.published = extended ? version : nil
            progress.publishedAt = extended ? now : -Double.infinity
        }
        let read = try store.orders(
            after: progress.lastID, blockMillis: SessionControl.blockMillis, on: redis)
        progress.lastID = read.lastID
        handle(read.orders)
    }

    /// Reload the revoked hash when its version moved (or the full reload is due), after the
    /// orders pending with it.
    private func reloadRevocations(_ progress: inout Progress, now: Double, on redis: RedisConnection) throws {
        if let known = progress.revocationsVersion, now - progress.reloadedAt < SessionControl.fullReloadInterval,
            try store.revocationsVersion(on: redis) == known
        {
            return
        }
        let snapshot = try store.revocationSnapshot(after: progress.lastID, on: redis)
        progress.lastID = snapshot.lastID
        handle(snapshot.orders)
        for (sub, millis) in revocations.replace(with: snapshot.revocations) { closeSessions(sub, millis) }
        progress.revocationsVersion = snapshot.version
        progress.reloadedAt = now
    }

    private func handle(_ orders: [SessionOrder]) {
        for order in orders {
            if let millis = order.revokedMillis { revocations.record(order.sub, millis: millis) }
            closeSessions(order.sub, nil)
        }
    }
}
