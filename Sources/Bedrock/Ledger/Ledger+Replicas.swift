import RedisClient
import Synchronization

extension Ledger {
    /// Seconds kept between the end of a `WAIT` and the connection's own timeout (its read
    /// timeout or the call's deadline), so a `WAIT` that runs out is answered by Redis rather
    /// than cut off as a hung server.
    static let waitMargin = 0.1

    /// Waits for `settings.replicaAcks` after `write`, on the connection that made (or repeated)
    /// it; throws `LedgerError.notReplicated` carrying `write` when too few replicas acknowledged:
    /// - at once, without waiting, when the master has fewer replicas connected than asked
    ///   (`ReplicaCount`, cached about a second per server);
    /// - when a repeat wrote nothing (`existing`, `unchanged`, ...), a small probe write first:
    ///   `WAIT` counts the acknowledgements of this client's last write, and replication is in
    ///   order, so the probe's acknowledgement covers the earlier write being repeated;
    /// - `WAIT n t` with `t` the configured timeout cut to the time the connection still allows
    ///   less `waitMargin`; a socket timeout during it counts as not replicated too.
    func confirmReplicas(_ write: LedgerWrite, on connection: RedisConnection) throws {
        let acks = settings.replicaAcks
        func shortfall(_ acknowledged: Int) -> LedgerError {
            ackFailures.add(1, ordering: .relaxed)
            return .notReplicated(acknowledged: acknowledged, policy: acks, write: write)
        }
        let connected = try replicaCount.connected(on: connection)
        if connected < acks.count { throw shortfall(connected) }
        var millis: Int = acks.timeoutMillis
        if let window = connection.replyWindow {
            let allowed: Double = (window - Ledger.waitMargin) * 1000
            millis = min(millis, Int(allowed))
        }
        // `WAIT n 0` would block forever.
        guard millis >= 1 else { throw shortfall(0) }
        if write.eventID == nil {
            _ = try connection.command(["SET", prefix + "replica_ack_probe", "1", "PX", "60000"]).checked()
        }
        let reply: RedisReply
        do {
            reply = try connection.command(["WAIT", String(acks.count), String(millis)]).checked()
        } catch {
            guard case .io(let message) = error, message == RedisError.readTimedOut else { throw error }
            throw shortfall(0)
        }
        guard let acknowledged = reply.integer else { throw LedgerError.reply("WAIT answered \(reply)") }
        if acknowledged < acks.count { throw shortfall(Int(acknowledged)) }
    }

    /// The write `body` made even when too few replicas acknowledged it: for background callers
    /// (the live engine), for which the write is done once it is on the master — retrying,
    /// requeueing or restarting would not replicate it sooner. Other errors are thrown.
    public func acceptingUnreplicated(_ body: () throws -> LedgerWrite) throws -> LedgerWrite {
        do {
            return try body()
        } catch let error as LedgerError {
            guard case .notReplicated(_, _, let write) = error else { throw error }
            return write
        }
    }
}

/// Replicas connected to each master, from `ROLE`, remembered for `maxAge` so a money
/// write checks them without an extra round trip each time. Any thread.
final class ReplicaCount: Sendable {
    /// How long a count is reused.
    static let maxAge: Duration = .seconds(1)

    /// One server's count and when it was asked.
    private struct Entry {
        var count: Int
        var at: ContinuousClock.Instant
    }

    private let counts = Mutex<[String: Entry]>([:])

    /// An empty cache.
    init() {}

    /// Replicas the server behind `connection` lists in `ROLE` (asked at most every
    /// `maxAge` per server).
    func connected(on connection: RedisConnection) throws -> Int {
        let server = connection.server.description
        let now = ContinuousClock.now
        let known: Entry? = counts.withLock { $0[server] }
        if let known, now < known.at + ReplicaCount.maxAge { return known.count }
        let role = try connection.command(["ROLE"]).checked()
        guard let parts = role.array, parts.first?.string == "master", parts.count >= 3, let replicas = parts[2].array
        else {
            // Not a master (a failover): the write cannot be confirmed here.
            return 0
        }
        counts.withLock { $0[server] = Entry(count: replicas.count, at: now) }
        return replicas.count
    }
}
