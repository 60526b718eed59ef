import GatewayCore
import RedisClient

/// The live engine's reads of new bars, with a watch for holes in the kline streams: bars
/// trimmed (`MAXLEN`) before the consumer group reached them, which `XREADGROUP … >` would
/// silently skip.
///
/// A read is the bridge's pattern (docs/REDIS_BRIDGE.md): the group's position in each stream
/// (`XINFO GROUPS`), a one-entry `XREAD BLOCK` from there that only says which streams have new
/// bars, then one `MULTI` with `XREADGROUP … >` over those streams and their `XINFO STREAM`, so
/// `StreamGapCheck` sees the bars and the stream's bookkeeping of the same instant. A hole becomes
/// `risk.alert` `MARKET_DATA_GAP` (the engine's caller writes it).
///
/// The cursor of a stream (last bar read, its ordinal) exists while this engine reads the stream
/// without interruption; it is dropped when the lease moves or a round fails. The first read
/// afterwards checks nothing and starts the count from that read (or from the group's own
/// `entries-read` when the read alone cannot tell).
///
/// Threading: the engine thread only.
final class BarGapWatch {
    /// A hole found in one stream.
    struct Hole: Equatable {
        let key: String
        let gap: StreamGapCheck.Gap
    }

    /// What one read returned: the entries per stream key, and the holes before them.
    struct Read {
        var streams: [(key: String, entries: [RedisReply])] = []
        var holes: [Hole] = []
    }

    private var cursors: [String: StreamGapCheck.Cursor] = [:]

    /// Forgets the cursor of `key` (lease given up or lost).
    func forget(_ key: String) { cursors[key] = nil }

    /// Forgets every cursor (a failed round: reads may have been lost with the connection).
    func forgetAll() { cursors = [:] }

    /// Reads up to `count` new bars per stream of `keys` for `consumer` of `group`, waiting up to
    /// `blockMillis` for some; nil when a stream has lost the group (`NOGROUP`: deleted).
    func readNew(
        _ keys: [String], group: String, consumer: String, count: Int, blockMillis: Int, on c: RedisConnection
    ) throws -> Read? {
        guard !keys.isEmpty else { return Read() }
        let positions = try c.pipeline(keys.map { ["XINFO", "GROUPS", $0] }).map { reply in
            Self.fields(ofGroup: group, in: reply)?["last-delivered-id"]?.string ?? "0-0"
        }
        let wake = try c.command(
            ["XREAD", "COUNT", "1", "BLOCK", String(blockMillis), "STREAMS"] + keys + positions)
        let ready = (try wake.checked().array ?? []).compactMap { $0.array?.first?.string }
        guard !ready.isEmpty else { return Read() }
        var commands: [[String]] = [["MULTI"]]
        commands.append(
            ["XREADGROUP", "GROUP", group, consumer, "COUNT", String(count), "STREAMS"] + ready
                + Array(repeating: ">", count: ready.count))
        commands += ready.map { ["XINFO", "STREAM", $0] }
        commands += ready.map { ["XINFO", "GROUPS", $0] }
        commands.append(["EXEC"])
        let replies = try c.pipeline(commands)
        guard case .array(let results)? = replies.last, results.count == 1 + 2 * ready.count else {
            throw RedisError.unexpectedReply("EXEC answered \(replies.last ?? .null)")
        }
        if case .error(let message) = results[0], message.hasPrefix("NOGROUP") { return nil }
        var read = Read()
        for stream in try results[0].checked().array ?? [] {
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string,
                let index = ready.firstIndex(of: key)
            else { continue }
            let entries = parts[1].array ?? []
            read.streams.append((key, entries))
            let ids = entries.compactMap { $0.array?.first?.string.flatMap(StreamID.init) }
            guard ids.count == entries.count, !ids.isEmpty, let snapshot = StreamReader.snapshot(results[1 + index])
            else {
                cursors[key] = nil
                continue
            }
            guard let cursor = cursors[key] else {
                // The first read since this engine took the stream: it only starts the count.
                let start = StreamGapCheck.Cursor(lastID: .zero, ordinal: nil)
                var next = StreamGapCheck.check(cursor: start, batch: ids, snapshot: snapshot).cursor
                if next.ordinal == nil,
                    let counted = Self.fields(ofGroup: group, in: results[1 + ready.count + index])?["entries-read"]?
                        .integer, counted > 0
                {
                    next.ordinal = UInt64(counted)
                }
                cursors[key] = next
                continue
            }
            let verdict = StreamGapCheck.check(cursor: cursor, batch: ids, snapshot: snapshot)
            cursors[key] = verdict.cursor
            if let gap = verdict.gap { read.holes.append(Hole(key: key, gap: gap)) }
        }
        return read
    }

    /// The fields of group `name` in an `XINFO GROUPS` reply.
    private static func fields(ofGroup name: String, in reply: RedisReply) -> [String: RedisReply]? {
        for group in reply.array ?? [] {
            var fields: [String: RedisReply] = [:]
            let list = group.array ?? []
            var i = 0
            while i + 1 < list.count {
                if let field = list[i].string { fields[field] = list[i + 1] }
                i += 2
            }
            if fields["name"]?.string == name { return fields }
        }
        return nil
    }

    /// Market and interval of a kline stream key `<prefix>stream:klines:{MARKET}:{INTERVAL}`.
    static func marketAndInterval(key: String, prefix: String) -> (market: String, interval: String)? {
        let head = prefix + "stream:klines:"
        guard key.hasPrefix(head), let colon = key.lastIndex(of: ":") else { return nil }
        let market = String(key[key.index(key.startIndex, offsetBy: head.count)..<colon])
        let interval = String(key[key.index(after: colon)...])
        return market.isEmpty || interval.isEmpty ? nil : (market, interval)
    }
}
