import GatewayCore
import RedisClient

/// Replay of a topic's stream for `subscribe` with `since` (SPEC §5): everything after `since`
/// up to the subscription's `position`, or nothing at all when that history is incomplete.
///
/// Runs on a worker thread with that worker's own `RedisConnection` (it blocks on Redis).
public enum StreamReplay {
    /// Entries with `since` < id ≤ `position`, as ready frames, and whether the replay is complete.
    ///
    /// - `since == "0"`: every retained entry up to `position`; `recovered` is true.
    /// - Otherwise `recovered` is true only when no entry after `since` was ever removed, judged
    ///   from `XINFO STREAM` *after* reading (removals are monotonic, so what was read is
    ///   complete): not if an entry newer than `since` was XDEL'd (`max-deleted-entry-id`), not if
    ///   trimming may have removed one (`since` older than `first-entry` while
    ///   `entries-added` > `length`; conservative: trimming exactly up to `since` also counts),
    ///   not if `since` is newer than `last-generated-id` (an id this stream never produced),
    ///   not if the stream is gone while `since` < `position`.
    /// - More than `max` entries in the range: `recovered` false and no entries (the client then
    ///   reloads its state with requests instead of a huge replay).
    /// - When `recovered` is false, `entries` is always empty: never a partial replay.
    /// - Entries whose `event` is not valid JSON are skipped, as in the live bridge.
    ///
    /// - Throws: `.invalidArgument` when `since` or `position` is not `\d+` or `\d+-\d+`
    ///   (`since` may also be `"0"`); `RedisError`s from the connection.
    public static func replay(
        _ connection: RedisConnection, topic: String, after since: String,
        upTo position: String, max: Int, prefix: String = "bedrock:",
        pageSize: Int = 1_000
    ) throws(RedisError) -> (entries: [BridgedEvent], recovered: Bool) {
        let all = since == "0"
        guard let sinceID = all ? StreamID.zero : StreamID(since) else {
            throw .invalidArgument("since must be a stream id like 1700000000000-0, got \"\(since)\"")
        }
        guard let positionID = StreamID(position) else {
            throw .invalidArgument("position must be a stream id like 1700000000000-0, got \"\(position)\"")
        }
        let key = StreamKeys.key(prefix: prefix, topic: topic)
        let framePrefix = EventFrameEncoder.prefix(topic: topic)
        var entries: [BridgedEvent] = []
        var fetched = 0
        if all || sinceID < positionID {
            var start = all ? "-" : "(\(sinceID)"
            while true {
                let want = Swift.max(1, Swift.min(pageSize, max + 1 - fetched))
                let reply = try connection.command([
                    "XRANGE", key, start, positionID.description,
                    "COUNT", String(want),
                ]).checked()
                guard let page = reply.array else { throw .unexpectedReply("XRANGE answered \(reply)") }
                for item in page {
                    guard let pair = item.array, pair.count == 2, let id = pair[0].string else { continue }
                    fetched += 1
                    if fetched > max { return ([], false) }
                    start = "(\(id)"
                    if let json = StreamReader.eventField(pair[1]),
                        let frame = EventFrameEncoder.frame(prefix: framePrefix, id: id, event: json)
                    {
                        entries.append(BridgedEvent(topic: topic, id: id, frame: frame))
                    }
                }
                if page.count < want { break }
            }
        }
        if all { return (entries, true) }
        let info = try streamInfo(connection, key: key)
        let recovered = complete(after: sinceID, position: positionID, info: info)
        return recovered ? (entries, true) : ([], false)
    }

    /// The retention facts `XINFO STREAM` gives (nil when the key does not exist).
    struct Info: Equatable {
        var length: Int64
        var entriesAdded: Int64?
        var lastGenerated: StreamID
        var maxDeleted: StreamID
        var firstEntry: StreamID?
    }

    static func streamInfo(_ connection: RedisConnection, key: String) throws(RedisError) -> Info? {
        let reply = try connection.command(["XINFO", "STREAM", key])
        if case .error(let message) = reply {
            if message.contains("no such key") { return nil }
            throw .server(message)
        }
        guard let list = reply.array else { throw .unexpectedReply("XINFO STREAM answered \(reply)") }
        var fields: [String: RedisReply] = [:]
        var i = 0
        while i + 1 < list.count {
            if let name = list[i].string { fields[name] = list[i + 1] }
            i += 2
        }
        guard let length = fields["length"]?.integer,
            let last = fields["last-generated-id"]?.string.flatMap(StreamID.init)
        else {
            throw .unexpectedReply("XINFO STREAM without length/last-generated-id")
        }
        return Info(
            length: length,
            entriesAdded: fields["entries-added"]?.integer,
            lastGenerated: last,
            maxDeleted: fields["max-deleted-entry-id"]?.string.flatMap(StreamID.init) ?? .zero,
            firstEntry: fields["first-entry"]?.array?.first?.string.flatMap(StreamID.init))
    }

    /// True when no entry with id > `since` has ever been removed from the stream.
    static func complete(after since: StreamID, position: StreamID, info: Info?) -> Bool {
        guard let info else { return since >= position }  // stream gone (or never existed)
        if since > info.lastGenerated { return false }  // not an id of this stream
        if let added = info.entriesAdded, added == info.length { return true }  // nothing ever removed
        if since < info.maxDeleted { return false }  // XDEL after since
        guard let first = info.firstEntry else {  // everything removed
            return since >= info.lastGenerated
        }
        return since >= first  // trimming stops below first-entry
    }
}
