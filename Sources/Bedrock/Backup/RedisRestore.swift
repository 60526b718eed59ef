import Foundation
import RedisClient

/// Loads a backup file into Redis (`bedrock restore`): `RESTORE key ttl payload [REPLACE]`,
/// pipelined in batches. Callers verify the whole file first (`verify`) so nothing is written
/// from a corrupt or foreign file.
public enum RedisRestore {
    /// What a file holds, or what a restore wrote.
    public struct Summary: Sendable, Equatable {
        /// The file's header.
        public var header: BackupHeader
        /// Keys.
        public var keys = 0
        /// Of which streams.
        public var streams = 0
        /// Sum of the `DUMP` payloads' sizes.
        public var payloadBytes = 0
    }

    /// Reads the whole file and checks it (magic, version, structure, every key under the
    /// header's prefix, checksum) without touching Redis.
    public static func verify(path: String) throws -> Summary {
        var summary: Summary?
        _ = try BackupFileReader.read(path: path) { item in
            switch item {
            case .header(let header): summary = Summary(header: header)
            case .record(let record): summary?.add(record)
            }
        }
        guard let summary else { throw BackupFileError.format(.truncated("the header")) }
        return summary
    }

    /// How many keys exist under `prefix`.
    public static func countKeys(_ connection: RedisConnection, prefix: String) throws -> Int {
        var keys = Set<[UInt8]>()
        try PrefixScan.forEachPage(connection, prefix: prefix) { keys.formUnion($0) }
        return keys.count
    }

    /// Deletes every key under `prefix` (`UNLINK`, one pipelined call per SCAN page); returns how many.
    public static func deleteKeys(_ connection: RedisConnection, prefix: String) throws -> Int {
        var deleted = 0
        try PrefixScan.forEachPage(connection, prefix: prefix) { page in
            guard !page.isEmpty else { return }
            let reply = try connection.pipeline(binary: [[Array("UNLINK".utf8)] + page])[0].checked()
            deleted += Int(reply.integer ?? 0)
        }
        return deleted
    }

    /// Restores every record of the file at `path`, `batchSize` keys (or about 8 MB of payload)
    /// per pipelined round trip; `replace` adds `REPLACE` (an existing key is overwritten instead
    /// of refused). A refused key stops the restore with an error naming it.
    public static func load(
        path: String, into connection: RedisConnection, replace: Bool, batchSize: Int = 1000
    ) throws -> Summary {
        var summary: Summary?
        var batch: [[[UInt8]]] = []
        var batchBytes = 0
        let restore = Array("RESTORE".utf8)
        let replaceArgument = Array("REPLACE".utf8)
        var window = PipelineWindow(connection)
        var sentKeys: [[[UInt8]]] = []
        func check() throws {
            let keys = sentKeys.removeFirst()
            for (reply, key) in zip(try window.receive(), keys) {
                if case .error(let message) = reply {
                    throw BackupRedisError("RESTORE \(String(decoding: key, as: UTF8.self)) refused: \(message)")
                }
            }
        }
        // One batch in flight while the next is read from the file.
        func send() throws {
            guard !batch.isEmpty else { return }
            try window.send(batch)
            sentKeys.append(batch.map { $0[1] })
            batch.removeAll(keepingCapacity: true)
            batchBytes = 0
            if window.pending == 2 { try check() }
        }
        _ = try BackupFileReader.read(path: path) { item in
            switch item {
            case .header(let header): summary = Summary(header: header)
            case .record(let record):
                summary?.add(record)
                let ttl = Array(String(record.pttl < 0 ? 0 : record.pttl).utf8)
                var command = [restore, record.key, ttl, record.payload]
                if replace { command.append(replaceArgument) }
                batch.append(command)
                batchBytes += record.payload.count
                if batch.count >= batchSize || batchBytes >= 8 << 20 { try send() }
            }
        }
        try send()
        while window.pending > 0 { try check() }
        guard let summary else { throw BackupFileError.format(.truncated("the header")) }
        return summary
    }
}

extension RedisRestore.Summary {
    fileprivate mutating func add(_ record: BackupRecord) {
        keys += 1
        payloadBytes += record.payload.count
        if record.isStream { streams += 1 }
    }
}
