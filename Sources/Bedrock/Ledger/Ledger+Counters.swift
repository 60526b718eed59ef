import RedisClient

/// Ledger-wide trading counters for `/metrics` (SPEC §4). They are read from Redis, so every
/// gateway sharing it reports the same totals, whichever gateway did the work.
public struct LedgerCounters: Sendable, Equatable {
    /// Signals stored (`seq:signal`).
    public var signalsGenerated: Int64
    /// APPROVED signals.
    public var signalsApproved: Int64
    /// REJECTED signals.
    public var signalsRejected: Int64
    /// Positions ever opened.
    public var positionsOpened: Int64
    /// Positions closed.
    public var positionsClosed: Int64
    /// Refused entries by reason code.
    public var refusals: [String: Int64]
    /// Σ size × current price of the open positions.
    public var openExposure: Double
}

extension Ledger {
    /// Reads the counters in one pipelined round trip plus the risk snapshot.
    public func counters(on connection: RedisConnection) throws -> LedgerCounters {
        let r = try connection.pipeline([
            ["GET", prefix + "seq:signal"], ["HGETALL", prefix + "arbiter"],
            ["GET", prefix + "seq:position"], ["ZCARD", prefix + "positions:status:CLOSED"],
            ["HGETALL", prefix + "risk:refusals"],
        ]).map { try $0.checked() }
        let arbiter = r[1].hash
        let refusals = r[4].hash.compactMapValues { Int64($0) }
        return LedgerCounters(
            signalsGenerated: r[0].integer ?? 0, signalsApproved: Int64(arbiter["approved"] ?? "") ?? 0,
            signalsRejected: Int64(arbiter["rejected"] ?? "") ?? 0, positionsOpened: r[2].integer ?? 0,
            positionsClosed: r[3].integer ?? 0, refusals: refusals,
            openExposure: try snapshot(on: connection).exposure)
    }
}
