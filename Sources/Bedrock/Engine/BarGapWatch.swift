import GatewayCore
import RedisClient

/// The live engine's watch for holes in the kline streams it consumes: bars trimmed (`MAXLEN`)
/// before its `XREADGROUP … >` reached them. After each read it asks `XINFO STREAM` of the streams
/// that returned bars (one pipelined round trip) and applies `StreamGapCheck` to its own cursor in
/// each stream; a hole becomes `risk.alert` `MARKET_DATA_GAP`.
///
/// A cursor exists only while this engine reads the stream without interruption: it is dropped
/// when the lease moves or a round fails, and the first read afterwards only sets it again (what
/// happened meanwhile is the previous reader's to report). The snapshot is taken after the read,
/// so when a producer trims past the whole read in between, the check errs towards an alert.
///
/// Threading: the engine thread only.
final class BarGapWatch {
    /// A hole found in one stream.
    struct Hole: Equatable {
        let key: String
        let gap: StreamGapCheck.Gap
    }

    private var cursors: [String: StreamGapCheck.Cursor] = [:]

    /// Forgets the cursor of `key` (lease given up or lost).
    func forget(_ key: String) { cursors[key] = nil }

    /// Forgets every cursor (a failed round: reads may have been lost with the connection).
    func forgetAll() { cursors = [:] }

    /// Checks the bars one `XREADGROUP … >` returned, per stream key (ids in order).
    func check(_ reads: [(key: String, ids: [String])], on c: RedisConnection) throws -> [Hole] {
        let reads = reads.filter { !$0.ids.isEmpty }
        guard !reads.isEmpty else { return [] }
        let infos = try c.pipeline(reads.map { ["XINFO", "STREAM", $0.key] })
        var holes: [Hole] = []
        for (read, info) in zip(reads, infos) {
            let ids = read.ids.compactMap(StreamID.init)
            guard ids.count == read.ids.count, let snapshot = StreamReader.snapshot(info) else {
                cursors[read.key] = nil
                continue
            }
            guard let cursor = cursors[read.key] else {
                // The first read since this engine took the stream: it only sets the cursor.
                let start = StreamGapCheck.Cursor(lastID: .zero, ordinal: nil)
                cursors[read.key] = StreamGapCheck.check(cursor: start, batch: ids, snapshot: snapshot).cursor
                continue
            }
            let verdict = StreamGapCheck.check(cursor: cursor, batch: ids, snapshot: snapshot)
            cursors[read.key] = verdict.cursor
            if let gap = verdict.gap { holes.append(Hole(key: read.key, gap: gap)) }
        }
        return holes
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
