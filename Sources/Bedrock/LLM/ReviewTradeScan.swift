import RedisClient

/// Reads the closed trades of a review period from the ledger: the trades index
/// (`<prefix>trades:index`, score = trade id) newest first, in pages, each page's hashes in one
/// pipelined round trip. Trade ids are handed out as trades close, so ids increase with exit
/// time: the scan skips trades that closed after the period and stops at the first one that
/// closed before it. It reads at most `maxTradesRead` trades (bounded time and memory); a period
/// reaching further back is `truncated`.
enum ReviewTradeScan {
    /// Most trades one review reads.
    static let maxTradesRead = 10_000
    /// Trades per page (one ZREVRANGE and one pipeline each).
    static let pageSize = 500

    /// The trades of `period` (stored hashes, oldest first) and whether the scan stopped at
    /// `maxTradesRead` before reaching the period's start.
    static func trades(
        in period: ReviewPeriod, prefix: String, on connection: RedisConnection, maxRead: Int = maxTradesRead
    ) throws -> (trades: [[String: String]], truncated: Bool) {
        var found: [[String: String]] = []
        var read = 0
        while read < maxRead {
            let count = min(pageSize, maxRead - read)
            let ids =
                try connection.command(["ZREVRANGE", prefix + "trades:index", String(read), String(read + count - 1)])
                .checked().array?.compactMap { $0.integer } ?? []
            if ids.isEmpty { return (found.reversed(), false) }
            let replies = try connection.pipeline(ids.map { ["HGETALL", LedgerRecord.trade.key(prefix: prefix, id: $0)] })
            for reply in replies {
                let trade = try reply.checked().hash
                guard let exit = trade["exit_time"] else { continue }
                if period.isBefore(exitTime: exit) { return (found.reversed(), false) }
                if period.contains(exitTime: exit) { found.append(trade) }
            }
            read += ids.count
            if ids.count < count { return (found.reversed(), false) }
        }
        // Cut short only when the next older trade still closed within the period.
        let next = try connection.command(["ZREVRANGE", prefix + "trades:index", String(read), String(read)]).checked()
        guard let id = next.array?.first?.integer else { return (found.reversed(), false) }
        let exit = try connection.command(["HGET", LedgerRecord.trade.key(prefix: prefix, id: id), "exit_time"]).checked()
        return (found.reversed(), exit.string.map { period.contains(exitTime: $0) } ?? false)
    }
}
