import GatewayCore
import RedisClient
import TradingCore

/// Finds bars by open time in a klines stream (`<prefix>stream:klines:{MARKET}:{INTERVAL}`)
/// without reading it whole.
///
/// Stream entry ids are arrival ids, not bar times, but ingest and replay append bars in open-time
/// order, so open times never decrease along the stream. The search bisects the id space: a probe
/// (`XRANGE key <id> + COUNT 8`) answers the first readable bar at or after an id, first over the
/// milliseconds part of the ids, then over the sequence part inside one millisecond (a pipelined
/// replay appends hundreds of entries in one millisecond). A search costs about
/// log2(time span of the ids in ms) + log2(entries in one ms) probes — some 20–45 round trips,
/// whatever the stream's length. Entries that are not readable `kline.closed` bars (another
/// publisher's event) are stepped over; a run of more than `probeWidth` of them reads as the end.
///
/// Threading: uses `connection` from the calling (worker) thread only.
struct KlineStreamSearch {
    /// One stream entry holding a readable bar.
    struct Entry {
        /// The entry id.
        let id: StreamID
        /// The bar.
        let bar: Bar
    }

    /// Entries read per probe: the first readable bar among them answers.
    static let probeWidth = 8

    /// The connection to read on.
    let connection: RedisConnection
    /// The stream key.
    let key: String

    /// The first entry at or after `id` with a readable bar, or nil.
    func probe(atOrAfter id: StreamID) throws -> Entry? {
        try first(of: connection.command(["XRANGE", key, id.description, "+", "COUNT", String(Self.probeWidth)]).checked())
    }

    /// The first entry whose bar opens at or after `time` (ms), or nil when none does.
    func firstEntry(openingAtOrAfter time: Int64) throws -> StreamID? {
        guard let head = try probe(atOrAfter: .zero) else { return nil }
        if head.bar.time >= time { return head.id }
        let tail = try first(of: connection.command(["XREVRANGE", key, "+", "-", "COUNT", String(Self.probeWidth)]).checked())
        guard let tail, tail.bar.time >= time else { return nil }
        // `reached(id)`: the first bar at or after `id` opens at or after `time` (or there is none).
        // It is false at `head.id` and true at `tail.id`, and never turns false again.
        func reached(_ id: StreamID) throws -> (Bool, Entry?) {
            let entry = try probe(atOrAfter: id)
            return (entry.map { $0.bar.time >= time } ?? true, entry)
        }
        // Milliseconds: false at (lo, 0), true at (hi, 0).
        var lo = head.id.ms
        // (An id at the very top of the id space has no successor: the answer is then filtered.)
        let (next, overflow) = tail.id.ms.addingReportingOverflow(1)
        var hi = overflow ? UInt64.max : next
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            let (ok, entry) = try reached(StreamID(ms: mid, seq: 0))
            // A bad bar at a later id moves `lo` past the ids before it (clamped: always progress).
            if ok { hi = mid } else { lo = Swift.min(Swift.max(mid, entry?.id.ms ?? mid), hi - 1) }
        }
        // Sequence inside millisecond `lo`: false at (lo, 0); the answer is an entry of `lo` or
        // the first one after it.
        let newest = try connection.command(["XREVRANGE", key, "\(lo)-\(UInt64.max)", "\(lo)-0", "COUNT", "1"]).checked()
        guard let lastText = newest.array?.first?.array?.first?.string, let last = StreamID(lastText),
            try reached(last).0
        else { return try probe(atOrAfter: StreamID(ms: hi, seq: 0))?.id }
        var loSeq: UInt64 = 0
        var hiSeq = last.seq
        while hiSeq - loSeq > 1 {
            let mid = loSeq + (hiSeq - loSeq) / 2
            let (ok, entry) = try reached(StreamID(ms: lo, seq: mid))
            let seq = entry.map { $0.id.ms == lo ? $0.id.seq : mid } ?? mid
            if ok { hiSeq = mid } else { loSeq = Swift.min(Swift.max(mid, seq), hiSeq - 1) }
        }
        return try probe(atOrAfter: StreamID(ms: lo, seq: hiSeq))?.id
    }

    /// Readable bars of an `XRANGE`/`XREVRANGE` reply, in reply order.
    static func entries(_ reply: RedisReply) -> [Entry] {
        (reply.array ?? []).compactMap(entry)
    }

    private func first(of reply: RedisReply) -> Entry? {
        for item in reply.array ?? [] {
            if let e = Self.entry(item) { return e }
        }
        return nil
    }

    private static func entry(_ item: RedisReply) -> Entry? {
        guard let parts = item.array, parts.count == 2, let text = parts[0].string, let id = StreamID(text),
            let bytes = StreamReader.eventField(parts[1]), let bar = JobData.bar(fromEvent: bytes)
        else { return nil }
        return Entry(id: id, bar: bar)
    }
}
