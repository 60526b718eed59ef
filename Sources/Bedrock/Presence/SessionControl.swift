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
///   pace) and hands each disconnect order to `closeSessions` (which posts to every loop);
/// - reloads the revoked hash at start and every `reloadInterval` (a revocation written to the
///   hash by hand reaches this gateway within it; one made by `admin.disconnect` comes at once
///   with its order), closing the open connections of users revoked meanwhile.
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
    /// Seconds between reloads of the revoked hash.
    static let reloadInterval = 1.0
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

    /// Start the thread, after loading the revoked hash (when Redis answers now) so no revoked
    /// token gets in while the thread starts.
    func start() {
        if let redis = try? RedisConnection(address, connectTimeout: 1, readTimeout: 2),
            let all = try? store.revocations(on: redis)
        {
            revocations.replace(with: all)
        }
        let thread = Thread { [self] in
            run()
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
        var lastID = "0-0"
        var published: UInt64?
        var publishedAt = -Double.infinity
        var reloadedAt = -Double.infinity
    }

    private func run() {
        var progress = Progress()
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
            progress.lastID = try store.controlTail(on: redis)
            progress.redis = redis
            progress.reloadedAt = -Double.infinity
        }
        let now = clock.read().monotonic
        if now - progress.reloadedAt >= SessionControl.reloadInterval {
            for (sub, millis) in revocations.replace(with: try store.revocations(on: redis)) { closeSessions(sub, millis) }
            progress.reloadedAt = now
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
        let read = try store.orders(after: progress.lastID, blockMillis: SessionControl.blockMillis, on: redis)
        progress.lastID = read.lastID
        for order in read.orders {
            if let millis = order.revokedMillis { revocations.record(order.sub, millis: millis) }
            closeSessions(order.sub, nil)
        }
    }
}
