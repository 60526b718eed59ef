import RedisClient
import TradingCore

/// Reading new records into a `LedgerIndex` (see its header for the rules).
extension LedgerIndex {
    /// Hash fields read per kind, in the order `row(_:_:...)` takes them.
    static func fields(_ kind: LedgerRecord) -> [String] {
        switch kind {
        case .signal: return ["market", "interval", "strategy", "side", "final_decision", "bar_time"]
        case .position:
            return ["market", "side", "signal_id", "status", "exit_reason", "opened_at_ms", "closed_at_ms", "opened_at"]
        case .trade: return ["market", "side", "signal_id", "exit_reason", "exit_time", "pnl", "commission", "position_id"]
        }
    }

    private static let kinds: [LedgerRecord] = [.signal, .position, .trade]

    /// Reads the records added since the last refresh (see the type's header), `chunk` ids per
    /// kind at a time, each batch kept as soon as it is read: a long catch-up cut off by the
    /// call's deadline resumes where it stopped on the next call.
    func refresh(on connection: RedisConnection) throws {
        try reading.withLock { _ in
            var mayRestart = true
            while try refreshBatch(on: connection, mayRestart: mayRestart) { mayRestart = false }
        }
    }

    /// Reads and keeps one batch; true when there may be more to read.
    private func refreshBatch(on c: RedisConnection, mayRestart: Bool) throws -> Bool {
        let marks = state.withLock { t in Self.kinds.map { (last: t[$0].lastID, seen: t[$0].seen) } }
        var probe: [[String]] = []
        for (kind, mark) in zip(Self.kinds, marks) {
            let key = prefix + kind.indexName
            probe.append(["ZCOUNT", key, "-inf", String(mark.last)])
            probe.append(["ZRANGEBYSCORE", key, "(\(mark.last)", "+inf", "LIMIT", "0", String(chunk)])
        }
        let replies = try c.pipeline(probe)
        var newIDs: [[Int64]] = []
        for (i, mark) in marks.enumerated() {
            let held = Int(try replies[2 * i].checked().integer ?? 0)
            if held != mark.seen {
                guard mayRestart else { throw LedgerError.reply("the ledger indexes changed while being read") }
                state.withLock { $0 = Tables(capacity: capacity) }
                return true
            }
            newIDs.append((try replies[2 * i + 1].checked().array ?? []).compactMap(\.integer))
        }
        guard newIDs.contains(where: { !$0.isEmpty }) else { return false }
        var stored: [[[String?]]] = []
        for (kind, ids) in zip(Self.kinds, newIDs) { stored.append(try read(kind, ids, on: c)) }
        let strategies = try signalStrategies(needed: stored[1] + stored[2], loaded: newIDs[0], stored[0], on: c)
        state.withLock { t in
            t.signals.append(zip(newIDs[0], stored[0]).map { Self.signalRow($0, $1, &t.words) })
            t.positions.append(
                zip(newIDs[1], stored[1]).map { Self.positionRow($0, $1, strategy: strategies, &t.words) })
            let last = t.trades.lastID
            let trades = zip(newIDs[2], stored[2]).map { Self.tradeRow($0, $1, strategy: strategies, &t.words) }
            let closed = t.words.code(PositionStatus.closed.rawValue)
            for trade in trades where trade.id > last {
                t.positions.update(trade.positionID) {
                    $0.status = closed
                    $0.exitReason = trade.exitReason
                    $0.closedAt = trade.time
                }
            }
            t.trades.append(trades)
        }
        return newIDs.contains { $0.count == chunk }
    }

    /// The filter fields of records `ids` of `kind` (nil for absent fields), in one pipeline.
    private func read(_ kind: LedgerRecord, _ ids: [Int64], on c: RedisConnection) throws -> [[String?]] {
        let fields = Self.fields(kind)
        let replies = try c.pipeline(ids.map { ["HMGET", kind.key(prefix: prefix, id: $0)] + fields })
        return try replies.map { reply in
            let values = try reply.checked().array ?? []
            return (0..<fields.count).map { i in i < values.count ? values[i].string : nil }
        }
    }

    /// Strategy of every signal the new positions and trades (`needed`, signal id at field 2) name:
    /// from the signals just read, the table, or Redis for the rest.
    private func signalStrategies(
        needed: [[String?]], loaded: [Int64], _ loadedFields: [[String?]], on c: RedisConnection
    ) throws -> [Int64: String] {
        var out: [Int64: String] = [:]
        for (id, f) in zip(loaded, loadedFields) { if let s = f[2] { out[id] = s } }
        let wanted = Set(needed.compactMap { $0[2].flatMap { Int64($0) } }).filter { out[$0] == nil }
        guard !wanted.isEmpty else { return out }
        let missing: [Int64] = state.withLock { t in
            var missing: [Int64] = []
            for id in wanted {
                if let row = t.signals.row(id), let name = t.words.name(row.strategy) {
                    out[id] = name
                } else {
                    missing.append(id)
                }
            }
            return missing
        }
        guard !missing.isEmpty else { return out }
        let replies = try c.pipeline(missing.map { ["HGET", LedgerRecord.signal.key(prefix: prefix, id: $0), "strategy"] })
        for (id, reply) in zip(missing, replies) { if let s = try reply.checked().string { out[id] = s } }
        return out
    }

    private static func market(_ text: String?) -> String? { text.map { MarketName.canonical($0) ?? $0 } }

    static func signalRow(_ id: Int64, _ f: [String?], _ words: inout Vocabulary) -> IndexedRow {
        var row = IndexedRow(id: id, time: f[5].flatMap(LedgerTime.millis) ?? .min)
        row.market = words.code(market(f[0]))
        row.interval = words.code(f[1])
        row.strategy = words.code(f[2])
        row.side = words.code(f[3])
        row.decision = words.code(f[4])
        return row
    }

    static func positionRow(
        _ id: Int64, _ f: [String?], strategy: [Int64: String], _ words: inout Vocabulary
    ) -> IndexedRow {
        let opened = f[5].flatMap { Int64($0) } ?? f[7].flatMap(LedgerTime.millis) ?? .min
        var row = IndexedRow(id: id, time: opened, closedAt: f[6].flatMap { Int64($0) } ?? 0)
        row.market = words.code(market(f[0]))
        row.side = words.code(f[1])
        row.strategy = words.code(strategyName(signal: f[2], strategy))
        row.status = words.code(f[3])
        row.exitReason = words.code(f[4])
        return row
    }

    static func tradeRow(_ id: Int64, _ f: [String?], strategy: [Int64: String], _ words: inout Vocabulary) -> IndexedRow {
        var row = IndexedRow(id: id, time: f[4].flatMap(LedgerTime.millis) ?? .min)
        row.market = words.code(market(f[0]))
        row.side = words.code(f[1])
        row.strategy = words.code(strategyName(signal: f[2], strategy))
        row.exitReason = words.code(f[3])
        row.pnl = f[5].flatMap(Money.units) ?? 0
        row.commission = f[6].flatMap(Money.units) ?? 0
        row.positionID = f[7].flatMap { Int64($0) } ?? 0
        return row
    }

    /// A record's strategy: its signal's, `manual` without a signal, nil when the signal is unknown.
    private static func strategyName(signal: String?, _ strategies: [Int64: String]) -> String? {
        guard let text = signal, !text.isEmpty else { return manualStrategy }
        return Int64(text).flatMap { strategies[$0] }
    }
}
