import GatewayCore
import JSONCodec
import RedisClient

/// Markets with market data: the `kline.closed` streams under `<prefix>stream:klines:`.
extension Ledger {
    /// Every `<prefix>stream:klines:{MARKET}:{INTERVAL}` key as (market, interval, key), sorted.
    func klineStreams(on connection: RedisConnection) throws -> [(market: String, interval: String, key: String)] {
        let head = prefix + "stream:klines:"
        var cursor = "0"
        var keys = Set<String>()
        repeat {
            let reply = try connection.command(["SCAN", cursor, "MATCH", head + "*", "COUNT", "1000", "TYPE", "stream"]).checked()
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                throw LedgerError.reply("SCAN answered \(reply)")
            }
            cursor = next
            for k in parts[1].array ?? [] { if let s = k.string { keys.insert(s) } }
        } while cursor != "0"
        var out: [(market: String, interval: String, key: String)] = []
        for key in keys {
            let rest = key.dropFirst(head.count)
            guard let colon = rest.lastIndex(of: ":") else { continue }
            let market = String(rest[..<colon]), interval = String(rest[rest.index(after: colon)...])
            if !market.isEmpty && !interval.isEmpty { out.append((market, interval, key)) }
        }
        return out.sorted { ($0.market, $0.interval) < ($1.market, $1.interval) }
    }

    /// The newest entry of a stream: (entry id, event object).
    func lastEvent(_ key: String, on connection: RedisConnection) throws -> (id: String, event: JSONObject)? {
        let reply = try connection.command(["XREVRANGE", key, "+", "-", "COUNT", "1"]).checked()
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

    /// `markets.list`: `[{"market","intervals":[{"interval","last_bar":{...}|null,"last_id"}]}]`.
    public func markets(on connection: RedisConnection) throws -> [JSONObject] {
        var byMarket: [(String, [JSONValue])] = []
        for s in try klineStreams(on: connection) {
            let last = try lastEvent(s.key, on: connection)
            let entry: JSONValue = .object([
                "interval": .string(s.interval), "topic": .string("klines:\(s.market):\(s.interval)"),
                "last_id": .optional(last?.id), "last_bar": last.map { .object($0.event) } ?? .null,
            ])
            if let i = byMarket.firstIndex(where: { $0.0 == s.market }) {
                byMarket[i].1.append(entry)
            } else {
                byMarket.append((s.market, [entry]))
            }
        }
        return byMarket.map { ["market": .string($0.0), "intervals": .array($0.1)] }
    }

    /// The last known price of `market` (any spelling): the close of its newest `kline.closed`
    /// over every interval, nil when it has no market data. A stream whose key spells the market
    /// otherwise (`klines:BTC/USDT:1h`, written by an outside publisher) counts too.
    public func lastPrice(market: String, on connection: RedisConnection) throws -> Double? {
        var best: (id: StreamID, close: Double)?
        let wanted = MarketName.canonical(market) ?? market
        for s in try klineStreams(on: connection) where (MarketName.canonical(s.market) ?? s.market) == wanted {
            guard let last = try lastEvent(s.key, on: connection), let id = StreamID(last.id),
                let close = last.event["close"].flatMap({ $0.doubleValue ?? $0.stringValue.flatMap(Double.init) })
            else { continue }
            if best == nil || best!.id < id { best = (id, close) }
        }
        return best?.close
    }
}
