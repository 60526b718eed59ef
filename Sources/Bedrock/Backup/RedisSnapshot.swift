import Foundation
import RedisClient

/// Takes a consistent snapshot of every key under a prefix into a backup file (`bedrock backup`).
///
/// Consistency: writes are paused server-wide with `CLIENT PAUSE <ms> WRITE` (Redis ≥ 6.2) for
/// the whole walk, so the keys are read as of one instant — a ledger script that writes several
/// keys is either wholly in the snapshot or not at all. Reads go on; every write command (the
/// ledger's scripts, `XADD`, `PUBLISH`, `XREADGROUP`) waits in Redis until `CLIENT UNPAUSE`,
/// and key expiry is held too. The pause carries a safety timeout, renewed with every pipelined
/// batch: if the backup dies, writers are released at most `pauseSafetyMillis` later.
///
/// The walk: `SCAN MATCH <prefix>*` for the key names, then `DUMP` + `PTTL` for each, pipelined
/// in batches. `DUMP` keeps everything Redis knows about a key: a stream's entry ids, its last
/// id and its consumer groups with their pending entries come back as they were.
public enum RedisSnapshot {
    /// The pause's own timeout (renewed with every batch): how long writers stay paused, at
    /// most, after a backup that died.
    public static let pauseSafetyMillis = 10_000

    /// What a snapshot wrote.
    public struct Result: Sendable {
        /// Keys written.
        public var keys = 0
        /// Of which streams.
        public var streams = 0
        /// Sum of the `DUMP` payloads' sizes.
        public var payloadBytes = 0
        /// The backup file's size.
        public var fileBytes = 0
        /// Keys that expired between `SCAN` and `DUMP` (not in the file).
        public var expired = 0
        /// How long writes were paused, seconds.
        public var pausedSeconds = 0.0
    }

    /// Snapshots every key under `prefix` into `path` (through `<path>.tmp`, see
    /// `BackupFileWriter`). `batchSize` keys per pipelined round trip.
    public static func take(
        connection: RedisConnection, prefix: String, to path: String, batchSize: Int = 1000
    ) throws -> Result {
        var result = Result()
        let clock = ContinuousClock()
        // A replica goes on applying its master's writes while its clients are paused.
        if try connection.command(["ROLE"]).checked().array?.first?.string == "slave" {
            throw BackupRedisError(
                "\(connection.address) is a replica, whose data keeps changing while its clients are paused: "
                    + "back up the master (redis.url or --redis)")
        }
        let pause: [[UInt8]] = ["CLIENT", "PAUSE", String(pauseSafetyMillis), "WRITE"].map { Array($0.utf8) }
        do {
            _ = try connection.pipeline(binary: [pause])[0].checked()
        } catch {
            throw BackupRedisError(
                "Redis refused CLIENT PAUSE \(pauseSafetyMillis) WRITE (Redis 6.2 or later is needed): \(error)")
        }
        let pausedAt = clock.now
        var paused = true
        defer {
            // On failure: release the writers now rather than at the pause's timeout.
            if paused { _ = try? connection.command(["CLIENT", "UNPAUSE"]) }
        }
        let createdAt = UInt64(Date().timeIntervalSince1970 * 1000)

        var keys: [[UInt8]] = []
        var seen = Set<[UInt8]>(minimumCapacity: Int(try connection.command(["DBSIZE"]).checked().integer ?? 0))
        try PrefixScan.forEachPage(connection, prefix: prefix, before: [pause]) { page in
            for key in page where seen.insert(key).inserted { keys.append(key) }
        }
        seen = []

        let writer = try BackupFileWriter(
            path: path, header: BackupHeader(createdAtMillis: createdAt, keyCount: UInt64(keys.count), prefix: prefix))
        let dump = Array("DUMP".utf8)
        let pttl = Array("PTTL".utf8)
        var window = PipelineWindow(connection)
        var sent: [ArraySlice<[UInt8]>] = []
        func write(_ replies: [RedisReply], for batch: ArraySlice<[UInt8]>) throws {
            _ = try replies[0].checked()  // the renewed pause
            for (i, key) in batch.enumerated() {
                let payloadReply = try replies[1 + 2 * i].checked()
                let ttl = try replies[2 + 2 * i].checked().integer
                guard case .bulk(let payload) = payloadReply, let ttl, ttl != -2 else {
                    result.expired += 1  // expired after SCAN listed it
                    continue
                }
                // PTTL 0 means "expires now": keep it as 1 ms (RESTORE reads 0 as "no expiry").
                let record = BackupRecord(key: key, pttl: ttl < 0 ? -1 : max(ttl, 1), payload: payload)
                try writer.write(record)
                result.keys += 1
                result.payloadBytes += payload.count
                if record.isStream { result.streams += 1 }
            }
        }
        var start = 0
        while start < keys.count || window.pending > 0 {
            if start < keys.count {
                let batch = keys[start..<min(start + batchSize, keys.count)]
                start += batch.count
                var commands: [[[UInt8]]] = [pause]
                commands.reserveCapacity(1 + 2 * batch.count)
                for key in batch {
                    commands.append([dump, key])
                    commands.append([pttl, key])
                }
                try window.send(commands)
                sent.append(batch)
            }
            // Keep one batch in flight while this one is written to the file.
            if window.pending == 2 || start >= keys.count {
                try write(try window.receive(), for: sent.removeFirst())
            }
        }
        _ = try connection.command(["CLIENT", "UNPAUSE"]).checked()
        paused = false
        result.pausedSeconds = Self.seconds(clock.now - pausedAt)
        result.fileBytes = try writer.finish(keyCount: UInt64(result.keys))
        return result
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
