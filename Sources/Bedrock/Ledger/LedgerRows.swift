/// The filter fields of one ledger record, compact: text fields are codes of a `Vocabulary`
/// (`Vocabulary.none` when absent). Signals, positions and trades share the type; each kind fills
/// what it has.
struct IndexedRow: Sendable, Equatable {
    var id: Int64
    /// What `from`/`to` bound: a signal's bar time, a position's open time, a trade's exit time
    /// (epoch ms; `Int64.min` when unknown).
    var time: Int64
    /// A position's close time (epoch ms), else 0.
    var closedAt: Int64 = 0
    var market = Vocabulary.none
    var interval = Vocabulary.none
    var strategy = Vocabulary.none
    var side = Vocabulary.none
    var decision = Vocabulary.none
    var status = Vocabulary.none
    var exitReason = Vocabulary.none
    /// Trades: net pnl and commission in `Money` units; the position closed.
    var pnl: Int64 = 0
    var commission: Int64 = 0
    var positionID: Int64 = 0
}

/// Interned text values: each distinct value gets a small code, so rows stay compact and
/// filters and groupings compare integers.
struct Vocabulary: Sendable {
    /// The code of an absent value.
    static let none: Int32 = -1
    /// The code of a value no row has (a filter for it matches nothing).
    static let unknown: Int32 = -2

    private(set) var names: [String] = []
    private var codes: [String: Int32] = [:]

    /// The code of `value`, adding it when new; `none` for nil or empty.
    mutating func code(_ value: String?) -> Int32 {
        guard let value, !value.isEmpty else { return Self.none }
        if let c = codes[value] { return c }
        let c = Int32(names.count)
        names.append(value)
        codes[value] = c
        return c
    }

    /// The code of `value` without adding it: nil for nil, `unknown` when no row has it.
    func lookup(_ value: String?) -> Int32? {
        guard let value else { return nil }
        return codes[value] ?? Self.unknown
    }

    /// The text of `code`, nil for `none`.
    func name(_ code: Int32) -> String? {
        code >= 0 && Int(code) < names.count ? names[Int(code)] : nil
    }
}

/// A `LedgerFilter` in codes of one `Vocabulary`.
struct RowQuery: Sendable {
    var market, interval, strategy, side, decision, status, exitReason: Int32?
    var from, to: Int64?

    init(_ f: LedgerFilter, _ words: Vocabulary) {
        market = words.lookup(f.market)
        interval = words.lookup(f.interval)
        strategy = words.lookup(f.strategy)
        side = words.lookup(f.side)
        decision = words.lookup(f.finalDecision)
        status = words.lookup(f.status)
        exitReason = words.lookup(f.exitReason)
        from = f.from
        to = f.to
    }

    /// Whether `row` passes every filter given.
    @inline(__always)
    func matches(_ row: IndexedRow) -> Bool {
        if let market, row.market != market { return false }
        if let interval, row.interval != interval { return false }
        if let strategy, row.strategy != strategy { return false }
        if let side, row.side != side { return false }
        if let decision, row.decision != decision { return false }
        if let status, row.status != status { return false }
        if let exitReason, row.exitReason != exitReason { return false }
        if let from, row.time < from { return false }
        if let to, row.time > to { return false }
        return true
    }
}

/// The rows of one record kind in id order, at most `capacity` of them (the oldest are dropped
/// beyond it; `dropped` counts them).
struct RecordTable: Sendable {
    private(set) var rows: [IndexedRow] = []
    /// Rows dropped from the front to stay within `capacity`.
    private(set) var dropped = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// The highest id held (0 when empty).
    var lastID: Int64 { rows.last?.id ?? 0 }
    /// Records the store held up to `lastID` when they were read: held plus dropped.
    var seen: Int { rows.count + dropped }

    /// Appends `new` rows with ids above `lastID` (in id order), dropping the oldest beyond `capacity`.
    mutating func append(_ new: [IndexedRow]) {
        let last = lastID
        rows.append(contentsOf: new.lazy.filter { $0.id > last })
        if rows.count > capacity {
            let excess = rows.count - capacity
            rows.removeFirst(excess)
            dropped += excess
        }
    }

    /// The position of the row with `id`, by binary search.
    func index(of id: Int64) -> Int? {
        var lo = 0, hi = rows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows[mid].id < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < rows.count && rows[lo].id == id ? lo : nil
    }

    /// The row with `id`, when held.
    func row(_ id: Int64) -> IndexedRow? { index(of: id).map { rows[$0] } }

    /// Changes the row with `id` in place, when held.
    mutating func update(_ id: Int64, _ change: (inout IndexedRow) -> Void) {
        if let i = index(of: id) { change(&rows[i]) }
    }

    /// Rows matching `query`, newest first (by id, or by close time then id with `byCloseTime`):
    /// how many match, and those from `offset` on, at most `limit`.
    func page(_ query: RowQuery, offset: Int, limit: Int, byCloseTime: Bool = false) -> (total: Int, rows: [IndexedRow]) {
        let end = offset + max(0, limit)
        guard byCloseTime else {
            var total = 0
            var out: [IndexedRow] = []
            for row in rows.reversed() where query.matches(row) {
                if total >= offset && total < end { out.append(row) }
                total += 1
            }
            return (total, out)
        }
        var all = rows.filter(query.matches)
        all.sort { $0.closedAt != $1.closedAt ? $0.closedAt > $1.closedAt : $0.id > $1.id }
        guard offset < all.count else { return (all.count, []) }
        return (all.count, Array(all[offset..<min(all.count, end)]))
    }
}
