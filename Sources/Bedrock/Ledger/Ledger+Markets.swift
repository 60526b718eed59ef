import GatewayCore
import JSONCodec
import RedisClient
import TradingCore

/// Markets with market data: the `kline.closed` streams under `<prefix>stream:klines:`, and the
/// markets the live ingest is feeding (its status hashes `<prefix>market_data:{MARKET}:{INTERVAL}`).
extension Ledger {
    /// Every `<prefix>stream:klines:{MARKET}:{INTERVAL}` key as (market, interval, key), sorted.
    func klineStreams(on connection: RedisConnection) throws -> [(market: String, interval: String, key: String)] {
        let head = prefix + "stream:klines:"
        return try scanKeys(head, type: "stream", on: connection).compactMap { key in
            guard let (market, interval) = Self.marketAndInterval(key.dropFirst(head.count)) else { return nil }
            return (market, interval, key)
        }.sorted { ($0.market, $0.interval) < ($1.market, $1.interval) }
    }

    /// The (market, interval) of every live-ingest status hash `<prefix>market_data:{MARKET}:{INTERVAL}`
    /// (other keys under that prefix, whose market part is no topic spelling, are skipped).
    func ingestStatusHashes(on connection: RedisConnection) throws -> [(market: String, interval: String)] {
        let head = prefix + "market_data:"
        return try scanKeys(head, type: "hash", on: connection).compactMap { key in
            guard let (market, interval) = Self.marketAndInterval(key.dropFirst(head.count)),
                MarketName.isCanonical(market), Topic.klineIntervals.contains(interval)
            else { return nil }
            return (market, interval)
        }
    }

    /// The keys of `type` starting with `head` (SCAN, so Redis is never blocked by a KEYS).
    private func scanKeys(_ head: String, type: String, on connection: RedisConnection) throws -> Set<String> {
        var cursor = "0"
        var keys = Set<String>()
        repeat {
            let reply = try connection.command(["SCAN", cursor, "MATCH", head + "*", "COUNT", "1000", "TYPE", type]).checked()
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                throw LedgerError.reply("SCAN answered \(reply)")
            }
            cursor = next
            for k in parts[1].array ?? [] { if let s = k.string { keys.insert(s) } }
        } while cursor != "0"
        return keys
    }

    /// `{MARKET}:{INTERVAL}` split at its last colon; nil when either part is empty.
    private static func marketAndInterval(_ rest: Substring) -> (String, String)? {
        guard let colon = rest.lastIndex(of: ":") else { return nil }
        let market = String(rest[..<colon]), interval = String(rest[rest.index(after: colon)...])
        return market.isEmpty || interval.isEmpty ? nil : (market, interval)
    }

    /// The newest entry of a stream: (entry id, event object).
    func lastEvent(_ key: String, on connection: RedisConnection) throws -> (id: String, event: JSONObject)? {
        Self.newestEntry(try connection.command(["XREVRANGE", key, "+", "-", "COUNT", "1"]).checked())
    }

    /// The entry of an `XREVRANGE … COUNT 1` reply whose `event` field is a JSON object.
    private static func newestEntry(_ reply: RedisReply) -> (id: String, event: JSONObject)? {
        guard let entry = reply.array?.first?.array, entry.count == 2, let id = entry[0].string,
            let fields = entry[1].array
        else { return nil }
        var i = 0
        while i + 1 < fields.count {
            if fields[i].string == "event", let text = fields[i + 1].string,
                let object = (try? JSONCodec.parse(text))?.objectValue
            {
                return (id, object)
            }
            i += 2
        }
        return nil
    }

    /// `markets.list`: every market with a klines stream or a live-ingest status hash, sorted,
    /// `[{"market","exchange","symbol","status","intervals":[{"interval","topic","exchange","symbol",
    /// "status","last_bar_time","bars","last_id","last_bar"}]}]`.
    ///
    /// An interval's `status` is the ingest's (`live`, `backfilling`, `stale`) while its status hash
    /// exists, else `replay` (bars from a replay or an outside feed; `exchange` and `symbol` null).
    /// A hash without a stream yet (the first page of a backfill) is listed with `bars` 0. The
    /// market level carries the `exchange` and `symbol` of its intervals (the first known) and the
    /// most current `status` among them (`live`, then `backfilling`, `stale`, `replay`).
    /// Two SCANs, then one pipelined round trip (XREVRANGE, XLEN, HMGET per interval).
    public func markets(on connection: RedisConnection) throws -> [JSONObject] {
        var pairs = Set<MarketInterval>()
        for s in try klineStreams(on: connection) { pairs.insert(MarketInterval(market: s.market, interval: s.interval)) }
        for h in try ingestStatusHashes(on: connection) { pairs.insert(MarketInterval(market: h.market, interval: h.interval)) }
        let sorted = pairs.sorted { ($0.market, $0.interval) < ($1.market, $1.interval) }
        var commands: [[String]] = []
        commands.reserveCapacity(sorted.count * 3)
        for p in sorted {
            let stream = prefix + "stream:klines:\(p.market):\(p.interval)"
            commands.append(["XREVRANGE", stream, "+", "-", "COUNT", "1"])
            commands.append(["XLEN", stream])
            commands.append(["HMGET", prefix + "market_data:\(p.market):\(p.interval)"] + MarketListing.hashFields)
        }
        let replies = try connection.pipeline(commands)
        var byMarket: [(market: String, intervals: [MarketListing])] = []
        for (i, p) in sorted.enumerated() {
            let hash = try replies[3 * i + 2].checked().array ?? []
            let feed = MarketListing(
                pair: p, last: Self.newestEntry(try replies[3 * i].checked()),
                bars: try replies[3 * i + 1].checked().integer ?? 0,
                hash: hash.map { $0.string.flatMap { $0.isEmpty ? nil : $0 } })
            if byMarket.last?.market == p.market {
                byMarket[byMarket.count - 1].intervals.append(feed)
            } else {
                byMarket.append((p.market, [feed]))
            }
        }
        return byMarket.map { MarketListing.marketEntry($0.market, $0.intervals) }
    }

    /// The last known price of `market` (any spelling): the close of its newest `kline.closed`
    /// over every interval, nil when it has no market data. A stream whose key spells the market
    /// otherwise (`klines:BTC/USDT:1h`, written by an outside publisher) counts too.
    public func lastPrice(market: String, on connection: RedisConnection) throws -> Double? {
        try lastBar(market: market, on: connection)?.close
    }

    /// The newest `kline.closed` of `market` (any spelling) over every interval, as `lastPrice`
    /// finds it: its close and its open time (epoch ms; nil when the event has none readable).
    public func lastBar(market: String, on connection: RedisConnection) throws -> (close: Double, openTime: Int64?)? {
        var best: (id: StreamID, close: Double, openTime: Int64?)?
        let wanted = MarketName.canonical(market) ?? market
        for s in try klineStreams(on: connection) where (MarketName.canonical(s.market) ?? s.market) == wanted {
            guard let last = try lastEvent(s.key, on: connection), let id = StreamID(last.id),
                let close = last.event["close"].flatMap({ $0.doubleValue ?? $0.stringValue.flatMap(Double.init) })
            else { continue }
            let openTime = last.event["open_time"].flatMap { $0.intValue ?? $0.stringValue.flatMap(KlineEvent.parseRFC3339) }
            if best == nil || best!.id < id { best = (id, close, openTime) }
        }
        return best.map { ($0.close, $0.openTime) }
    }
}

/// A market and interval (a klines stream, a status hash, or both).
struct MarketInterval: Hashable {
    let market: String
    let interval: String
}
