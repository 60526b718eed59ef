import JSONCodec
import RedisClient

/// Filtered lists, CSV exports and analytics over a `LedgerIndex`: the index picks the rows, then
/// only those records' hashes are read.
struct LedgerReads: Sendable {
    let ledger: Ledger
    let index: LedgerIndex

    /// Rows an export may hold.
    static let maxExportRows = 10_000

    /// A list page (`signals.list`, `positions.list`, `trades.list`): `{"total","page","page_size","data"}`.
    /// Positions and trades carry their `strategy` (the signal's, `manual` without one).
    func list(_ kind: LedgerRecord, _ p: LedgerParams, on c: RedisConnection) throws -> JSONValue {
        let (offset, limit) = try p.paging()
        let filter = try p.filter(for: kind)
        let page = try index.select(kind, filter, offset: offset, limit: limit, on: c)
        let stored = try hashes(kind, page.rows, on: c)
        var data: [JSONObject] = []
        for (row, hash) in zip(page.rows, stored) {
            guard var object = kind.json(hash) else { continue }
            if kind != .signal { object["strategy"] = .optional(page.words.name(row.strategy)) }
            data.append(object)
        }
        return LedgerPage(total: page.total, data: data).json(offset: offset, limit: limit)
    }

    /// The records of `rows`, read in one pipeline.
    private func hashes(_ kind: LedgerRecord, _ rows: [IndexedRow], on c: RedisConnection) throws -> [[String: String]] {
        let replies = try c.pipeline(rows.map { ["HGETALL", kind.key(prefix: ledger.prefix, id: $0.id)] })
        return try replies.map { try $0.checked().hash }
    }

    /// A CSV export of `kind` with the list filters (`format=csv` only): a header row, then the
    /// matching records newest first. Without `limit`, more than `maxExportRows` matches is
    /// BAD_REQUEST; with `limit` (1...maxExportRows), the newest `limit`.
    func export(_ kind: LedgerRecord, _ p: LedgerParams, on c: RedisConnection) throws -> Download {
        let format = try p.string("format") ?? "csv"
        guard format.lowercased() == "csv" else { throw APIError(.badRequest, "format must be csv") }
        let limit = try p.int("limit")
        if let limit, !(1...Int64(Self.maxExportRows)).contains(limit) {
            throw APIError(.badRequest, "limit must be an integer from 1 to \(Self.maxExportRows)")
        }
        let filter = try p.filter(for: kind)
        let wanted = limit.map { Int($0) } ?? Self.maxExportRows
        let page = try index.select(kind, filter, offset: 0, limit: wanted, on: c)
        if limit == nil, page.total > Self.maxExportRows {
            throw APIError(
                .badRequest,
                "\(page.total) rows match; an export holds at most \(Self.maxExportRows): narrow it with from/to or "
                    + "other filters, or pass limit (up to \(Self.maxExportRows)) for the newest rows")
        }
        let columns = Self.columns(kind)
        let fields = columns.map(\.field)
        let replies = try c.pipeline(page.rows.map { ["HMGET", kind.key(prefix: ledger.prefix, id: $0.id)] + fields })
        var csv = CSVWriter(capacity: 64 + page.rows.count * 160)
        csv.row(columns.map(\.name) + (kind == .signal ? [] : ["strategy"]))
        for (row, reply) in zip(page.rows, replies) {
            let values = try reply.checked().array ?? []
            guard values.contains(where: { !$0.isNull }) else { continue }  // gone since it was indexed
            for (column, value) in zip(columns, values) {
                guard case .bulk(let bytes) = value, !bytes.isEmpty else {
                    csv.field(nil)
                    continue
                }
                if column.kind == .bool {
                    csv.field(bytes == [UInt8(ascii: "1")] ? "true" : "false")
                } else {
                    bytes.withUnsafeBytes { csv.field($0) }
                }
            }
            if kind != .signal { csv.field(page.words.name(row.strategy)) }
            csv.endRecord()
        }
        return Download(contentType: "text/csv; charset=utf-8", filename: "\(kind.plural).csv", body: csv.bytes)
    }

    /// The exported columns: the answer's fields but nested JSON (`features`).
    static func columns(_ kind: LedgerRecord) -> [(name: String, field: String, kind: LedgerRecord.Kind)] {
        kind.schema.filter { $0.kind != .json }
    }

    /// `stats.by_market`, `stats.by_exit_reason`, `stats.by_strategy` over trades exited in [from, to].
    func stats(by grouping: TradeStats.Grouping, _ p: LedgerParams, on c: RedisConnection) throws -> JSONValue {
        let (from, to) = try p.timeRange()
        let t = try index.refreshed(on: c)
        return TradeStats.grouped(t.trades.rows, by: grouping, words: t.words, from: from, to: to)
    }

    /// `stats.daily`: per UTC day of exit time, with the account's equity at each day's end.
    func daily(_ p: LedgerParams, on c: RedisConnection) throws -> JSONValue {
        let (from, to) = try p.timeRange()
        let t = try index.refreshed(on: c)
        let stored = try c.command(["HGET", ledger.prefix + "account", "initial_balance"]).checked().string
        let initial = stored.flatMap(Money.units) ?? Money.units(Money.text(ledger.settings.initialBalance)) ?? 0
        return TradeStats.daily(t.trades.rows, initialBalance: initial, from: from, to: to)
    }
}

extension LedgerRecord {
    /// `signals`, `positions`, `trades`.
    var plural: String {
        switch self {
        case .signal: return "signals"
        case .position: return "positions"
        case .trade: return "trades"
        }
    }
}
