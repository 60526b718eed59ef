import RedisClient

/// Market filters over the ledger's per-market indexes (`signals:market:{M}`,
/// `positions:market:{M}[:status:S]`, `trades:market:{M}`).
///
/// Records are written under the market's canonical id (`BTCUSDT`). Records written before the
/// one market rule may sit under another spelling of the same market — the engine used to record
/// the `market` field of the bar event as published (`BTC/USDT`, `btc-usdt`, `BTC_USDT`). They are
/// not migrated; a lookup reads the canonical index plus those of the market's plain older
/// spellings that exist: the id in lower case, and `BASE{sep}QUOTE` for every split of the id,
/// every separator (`/ - _`) and both cases (37 candidates for `BTCUSDT`, checked with one
/// pipelined round trip). Mixed-case spellings (`Btc/Usdt`) are not looked for. In the usual
/// case, no older index exists and the lookup is the plain canonical one.
extension Ledger {
    /// The other spellings a record of canonical market `id` may have been stored under, `id`
    /// itself excluded.
    static func olderSpellings(of id: String) -> [String] {
        let chars = Array(id)
        var out: [String] = []
        for cut in chars.indices.dropFirst() {
            let base = String(chars[..<cut]), quote = String(chars[cut...])
            for sep in ["/", "-", "_"] { out.append(base + sep + quote) }
        }
        out += out.map { $0.lowercased() }
        out.append(id.lowercased())
        var seen: Set<String> = [id]
        return out.filter { seen.insert($0).inserted }
    }

    /// The index keys (without prefix) of `market` (any spelling) that hold records: the canonical
    /// one first, then each older spelling's that exists. `name(M)` builds an index name.
    func marketIndexes(_ market: String, on connection: RedisConnection, _ name: (String) -> String) throws -> [String] {
        let id = MarketName.canonical(market) ?? market
        let older = Self.olderSpellings(of: id).map(name)
        guard !older.isEmpty else { return [name(id)] }
        let replies = try connection.pipeline(older.map { ["EXISTS", prefix + $0] })
        var out = [name(id)]
        for (index, reply) in zip(older, replies) where try reply.checked().integer == 1 { out.append(index) }
        return out
    }

    /// A newest-first page over the union of sorted-set `indexes` (score = id), as records.
    func page(
        _ kind: LedgerRecord, indexes: [String], offset: Int, limit: Int,
        on connection: RedisConnection
    ) throws -> LedgerPage {
        guard indexes.count > 1 else {
            return try page(kind, index: indexes.first ?? "", offset: offset, limit: limit, on: connection)
        }
        let members = try connection.command(["ZUNION", String(indexes.count)] + indexes.map { prefix + $0 }).checked()
        let ids = Set((members.array ?? []).compactMap { $0.string.flatMap { Int64($0) } }).sorted(by: >)
        guard limit > 0, offset < ids.count else { return LedgerPage(total: ids.count, data: []) }
        let slice = ids[offset..<min(ids.count, offset + limit)]
        let replies = try connection.pipeline(slice.map { ["HGETALL", kind.key(prefix: prefix, id: $0)] })
        return LedgerPage(total: ids.count, data: try replies.compactMap { try kind.json($0.checked().hash) })
    }
}
