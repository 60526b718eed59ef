import RedisClient
import Synchronization

/// The filter fields of every signal, position and trade, in memory, so list filters, exports
/// and analytics never read every hash: a request scans compact rows (`IndexedRow`) and then
/// reads only the hashes of its page.
///
/// Freshness: before each use, `refresh(on:)` asks Redis for the ids above the newest one held
/// (`ZRANGEBYSCORE <kind>s:index (last +inf`, one round trip when nothing is new) and reads just
/// those records' filter fields. Records never change their filter fields, except a position's
/// status, exit reason and close time: a close always writes a trade (`close_position.lua`, in
/// the same script), so each new trade marks its position CLOSED here. A trade's (and a
/// position's) strategy is its signal's, `manual` without a signal; it is resolved once, when
/// the row is read. A store that lost records (flushed) is noticed (`ZCOUNT` up to the newest
/// id held no longer equals the rows seen) and read again from scratch.
///
/// Bounds: at most `capacity` rows per kind (the oldest drop out of filters and analytics
/// beyond it; about 100 bytes a row). One instance per gateway, shared by the API workers
/// under a `Mutex`; readers take a copy-on-write snapshot and filter outside the lock. One
/// refresh reads Redis at a time (`reading`); `warm(with:)` makes the first, long one on a
/// thread of its own (`bedrock-ledger-index`) at start.
final class LedgerIndex: Sendable {
    /// The tables and the vocabulary of their codes.
    struct Tables: Sendable {
        var words = Vocabulary()
        var signals: RecordTable
        var positions: RecordTable
        var trades: RecordTable

        init(capacity: Int) {
            signals = RecordTable(capacity: capacity)
            positions = RecordTable(capacity: capacity)
            trades = RecordTable(capacity: capacity)
        }

        /// The table of `kind`.
        subscript(kind: LedgerRecord) -> RecordTable {
            switch kind {
            case .signal: return signals
            case .position: return positions
            case .trade: return trades
            }
        }
    }

    /// Rows per kind held at most.
    static let defaultCapacity = 1_000_000
    /// The strategy recorded for trades and positions without a signal (manual entries).
    static let manualStrategy = "manual"

    let prefix: String
    let capacity: Int
    /// Records of each kind read per batch while catching up.
    let chunk: Int
    let state: Mutex<Tables>
    /// Held while reading from Redis: one refresh at a time, so callers arriving during a long
    /// catch-up wait for it and then find the rows there instead of reading them again.
    let reading = Mutex(())
    /// Runs the one read at start (`warm(with:)`).
    private let warmer = WorkerPool(threads: 1, name: "bedrock-ledger-index")

    /// An empty index of the ledger under `prefix`.
    init(prefix: String, capacity: Int = LedgerIndex.defaultCapacity, chunk: Int = 2000) {
        self.prefix = prefix
        self.capacity = capacity
        self.chunk = max(1, chunk)
        state = Mutex(Tables(capacity: capacity))
    }

    /// Reads the whole ledger in the background (at start), so the first list, export or
    /// analytics call does not pay for it; a failure is left for the next call to retry.
    func warm(with pool: RedisPool) {
        warmer.submit { [self] in _ = try? pool.with { try refresh(on: $0) } }
    }

    /// The current tables (a copy-on-write snapshot: O(1), filter it outside the lock).
    var tables: Tables { state.withLock { $0 } }

    /// Brings the tables up to date with the store and answers them.
    @discardableResult
    func refreshed(on connection: RedisConnection) throws -> Tables {
        try refresh(on: connection)
        return tables
    }

    /// One page of `kind` rows matching `filter`, newest first (CLOSED positions by close time),
    /// with the matching total and the vocabulary of the rows' codes.
    func select(
        _ kind: LedgerRecord, _ filter: LedgerFilter, offset: Int, limit: Int, on connection: RedisConnection
    ) throws -> (total: Int, rows: [IndexedRow], words: Vocabulary) {
        let t = try refreshed(on: connection)
        let page = t[kind].page(
            RowQuery(filter, t.words), offset: offset, limit: limit,
            byCloseTime: kind == .position && filter.status == PositionStatus.closed.rawValue)
        return (page.total, page.rows, t.words)
    }
}

extension LedgerRecord {
    /// The sorted set holding every id of the kind (score = id).
    var indexName: String {
        switch self {
        case .signal: return "signals:index"
        case .position: return "positions:index"
        case .trade: return "trades:index"
        }
    }
}
