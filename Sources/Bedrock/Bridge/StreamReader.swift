import Foundation
import GatewayCore
import RedisClient

/// The body of `StreamBridge`'s reader thread. Created on that thread and used only there.
final class StreamReader {
    private struct Cursor {
        let key: String
        var lastID: String
        /// Entries added to the stream up to `lastID` (see `StreamGapCheck`); nil when unknown.
        var ordinal: UInt64?
        var refs: Int
        let framePrefix: [UInt8]
        /// False when the key holds something other than a stream; it then stays out of XREAD.
        var readable: Bool
    }

    private let bridge: StreamBridge
    private var shared: BridgeShared { bridge.shared }
    private var options: StreamBridge.Options { bridge.options }
    private var connection: RedisConnection?
    private var cursors: [String: Cursor] = [:]
    private var topicByKey: [String: String] = [:]
    private var reportedUp: Bool?
    private var backoff = StreamReader.initialBackoff
    private static let initialBackoff = 0.05

    init(bridge: StreamBridge) { self.bridge = bridge }

    func run() {
        while !shared.isStopping {
            guard let conn = connect() else { continue }
            do {
                try applyOps(conn)
                if shared.isStopping { break }
                if cursors.values.contains(where: { $0.readable }) {
                    try readOnce(conn)
                } else if !shared.waitForWork(seconds: options.idlePingSeconds) {
                    _ = try conn.command(["PING"]).checked()
                }
            } catch {
                if error.breaksConnection {
                    connection = nil
                    shared.setReader(clientID: nil)
                    report(up: false)
                } else {
                    shared.sleep(seconds: 0.2)  // an error reply: do not spin
                }
            }
        }
        connection = nil
        shared.markReaderExited()
    }

    // MARK: connection

    private func connect() -> RedisConnection? {
        if let connection { return connection }
        do {
            let readTimeout = Double(options.blockMillis) / 1000 + 5
            let conn = try RedisConnection(
                bridge.address, connectTimeout: options.connectTimeout,
                readTimeout: readTimeout)
            // Up means usable: a server still loading its AOF (or a TCP self-connect to a
            // closed local port) does not answer PONG.
            let pong = try conn.command(["PING"])
            guard pong == .status("PONG") else { throw RedisError.io("PING answered \(pong)") }
            shared.setReader(clientID: (try? conn.command(["CLIENT", "ID"]))?.integer)
            connection = conn
            backoff = StreamReader.initialBackoff
            report(up: true)
            return conn
        } catch {
            report(up: false)
            shared.sleep(seconds: backoff)
            backoff = min(backoff * 2, options.maxBackoff)
            return nil
        }
    }

    private func report(up: Bool) {
        guard reportedUp != up else { return }
        let wasDown = reportedUp == false
        reportedUp = up
        shared.setUp(up, countReconnect: up && wasDown)
        bridge.statusChanged(up)
    }

    // MARK: topic changes

    private func applyOps(_ conn: RedisConnection) throws(RedisError) {
        while let op = shared.peekOp() {
            switch op {
            case .activate(let topic, let completion):
                if var cursor = cursors[topic] {
                    cursor.refs += 1
                    cursors[topic] = cursor
                    shared.popOp()
                    completion(cursor.lastID)
                    continue
                }
                let key = StreamKeys.key(prefix: options.prefix, topic: topic)
                // The newest id ever added and how many were added: where live reading starts.
                let reply = try conn.command(["XINFO", "STREAM", key])
                var cursor = Cursor(
                    key: key, lastID: "0-0", ordinal: 0, refs: 1,
                    framePrefix: EventFrameEncoder.prefix(topic: topic), readable: true)
                switch reply {
                case .array:
                    guard let info = StreamReader.snapshot(reply) else {
                        throw .unexpectedReply("XINFO STREAM answered \(reply)")
                    }
                    let start = StreamGapCheck.Cursor(newestOf: info)
                    cursor.lastID = start.lastID.description
                    cursor.ordinal = start.ordinal
                case .error(let message) where message.hasPrefix("WRONGTYPE"):
                    cursor.readable = false  // the key is not a stream: nothing to bridge
                case .error(let message) where message.contains("no such key"):
                    break  // no stream yet: read from 0-0, where nothing was added before
                case .error(let message):
                    throw .server(message)  // e.g. LOADING after a restart: retried shortly
                default:
                    throw .unexpectedReply("XINFO STREAM answered \(reply)")
                }
                cursors[topic] = cursor
                topicByKey[key] = topic
                shared.popOp()
                completion(cursor.lastID)
            case .deactivate(let topic):
                if var cursor = cursors[topic] {
                    cursor.refs -= 1
                    if cursor.refs <= 0 {
                        cursors[topic] = nil
                        topicByKey[cursor.key] = nil
                    } else {
                        cursors[topic] = cursor
                    }
                }
                shared.popOp()
            }
        }
        shared.record(ingested: [:], malformed: 0, activeTopics: cursors.count, gaps: 0)
    }

    // MARK: reading

    /// Waits for entries with a one-entry `XREAD BLOCK` over every readable stream, then reads
    /// the streams that have some together with their `XINFO STREAM` in one `MULTI` (one round
    /// trip, one instant), so that `StreamGapCheck` can tell whether entries were trimmed before
    /// they could be read.
    private func readOnce(_ conn: RedisConnection) throws(RedisError) {
        let active = cursors.values.filter { $0.readable }
        var args = ["XREAD", "COUNT", "1", "BLOCK", String(options.blockMillis), "STREAMS"]
        args += active.map(\.key)
        args += active.map(\.lastID)
        let reply = try conn.command(args)
        switch reply {
        case .null:
            return  // timed out or woken by CLIENT UNBLOCK
        case .error(let message):
            try quarantineNonStreams(conn)
            throw .server(message)
        case .array(let streams):
            let ready = streams.compactMap { $0.array?.first?.string }.compactMap { topicByKey[$0] }
            try read(ready.compactMap { cursors[$0] }, conn)
        default:
            throw .unexpectedReply("XREAD answered \(reply)")
        }
    }

    /// `MULTI`, `XREAD COUNT n` over `ready`, `XINFO STREAM` of each, `EXEC`; then delivers.
    private func read(_ ready: [Cursor], _ conn: RedisConnection) throws(RedisError) {
        guard !ready.isEmpty else { return }
        var commands: [[String]] = [["MULTI"]]
        commands.append(["XREAD", "COUNT", String(options.count), "STREAMS"] + ready.map(\.key) + ready.map(\.lastID))
        commands += ready.map { ["XINFO", "STREAM", $0.key] }
        commands.append(["EXEC"])
        let replies = try conn.pipeline(commands)
        guard case .array(let results)? = replies.last, results.count == ready.count + 1 else {
            throw .unexpectedReply("EXEC answered \(replies.last ?? .null)")
        }
        switch results[0] {
        case .null:
            return  // trimmed to nothing since the wake-up
        case .error(let message):
            try quarantineNonStreams(conn)
            throw .server(message)
        case .array(let streams):
            var infos: [String: StreamGapCheck.Snapshot] = [:]
            for (cursor, info) in zip(ready, results.dropFirst()) { infos[cursor.key] = StreamReader.snapshot(info) }
            deliver(streams, infos: infos)
        default:
            throw .unexpectedReply("XREAD answered \(results[0])")
        }
    }

    /// Decodes an XREAD reply `[[key, [[id, [field, value, …]], …]], …]` into one batch, with a
    /// gap frame ahead of a stream's entries when some were removed before they were read.
    private func deliver(_ streams: [RedisReply], infos: [String: StreamGapCheck.Snapshot]) {
        var batch: [BridgedEvent] = []
        var perTopic: [String: UInt64] = [:]
        var malformed: UInt64 = 0
        var gaps: UInt64 = 0
        for stream in streams {
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string,
                let topic = topicByKey[key], var cursor = cursors[topic],
                let entries = parts[1].array
            else { continue }
            let ids = entries.map { $0.array?.first?.string.flatMap(StreamID.init) }
            let checked = ids.compactMap { $0 }
            if let info = infos[key], checked.count == ids.count, let last = StreamID(cursor.lastID) {
                let verdict = StreamGapCheck.check(
                    cursor: .init(lastID: last, ordinal: cursor.ordinal), batch: checked, snapshot: info)
                cursor.ordinal = verdict.cursor.ordinal
                if let gap = verdict.gap {
                    batch.append(BridgedEvent(gapIn: topic, after: gap.after.description, next: gap.next.description))
                    gaps += 1
                }
            } else {
                cursor.ordinal = nil
            }
            for entry in entries {
                guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { continue }
                cursor.lastID = id
                if let json = StreamReader.eventField(pair[1]),
                    let frame = EventFrameEncoder.frame(prefix: cursor.framePrefix, id: id, event: json)
                {
                    batch.append(BridgedEvent(topic: topic, id: id, frame: frame))
                    perTopic[topic, default: 0] += 1
                } else {
                    malformed += 1
                }
            }
            cursors[topic] = cursor
        }
        shared.record(ingested: perTopic, malformed: malformed, activeTopics: cursors.count, gaps: gaps)
        if !batch.isEmpty { bridge.sink(batch) }
    }

    /// The fields of an `XINFO STREAM` reply the gap check needs; nil when it is not one.
    static func snapshot(_ reply: RedisReply) -> StreamGapCheck.Snapshot? {
        guard let list = reply.array else { return nil }
        var fields: [String: RedisReply] = [:]
        var i = 0
        while i + 1 < list.count {
            if let name = list[i].string { fields[name] = list[i + 1] }
            i += 2
        }
        guard let added = fields["entries-added"]?.integer, let length = fields["length"]?.integer,
            let generated = fields["last-generated-id"]?.string.flatMap(StreamID.init),
            let deleted = fields["max-deleted-entry-id"]?.string.flatMap(StreamID.init)
        else { return nil }
        let first = fields["first-entry"]?.array?.first?.string.flatMap(StreamID.init)
        return StreamGapCheck.Snapshot(
            entriesAdded: UInt64(max(0, added)), length: UInt64(max(0, length)), firstID: first,
            lastGeneratedID: generated, maxDeletedID: deleted)
    }

    /// The bytes of the `event` field of an entry's field list, if present.
    static func eventField(_ fields: RedisReply) -> [UInt8]? {
        guard let list = fields.array else { return nil }
        var i = 0
        while i + 1 < list.count {
            if list[i].string == "event", case .bulk(let bytes) = list[i + 1] { return bytes }
            i += 2
        }
        return nil
    }

    /// After an XREAD error reply, takes keys that are no longer streams out of the read set.
    private func quarantineNonStreams(_ conn: RedisConnection) throws(RedisError) {
        for (topic, cursor) in cursors where cursor.readable {
            // Only a definite other type counts: an error reply (LOADING, …) is not a verdict.
            guard case .status(let type) = try conn.command(["TYPE", cursor.key]) else { continue }
            if type != "stream" && type != "none" { cursors[topic]?.readable = false }
        }
    }
}
