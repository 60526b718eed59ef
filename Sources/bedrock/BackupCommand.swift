import ArgumentParser
import Bedrock
import Foundation
import RedisClient

/// `bedrock backup --out FILE [--redis URL|embedded] [--config F] [--data-dir D]` (SPEC §13):
/// writes a consistent snapshot of every key under `redis.prefix` (writes paused meanwhile, see
/// `RedisSnapshot`) to FILE, through FILE.tmp renamed when complete. With `embedded` and no
/// gateway running on the data directory, its embedded Redis is started for the backup.
/// Bad arguments exit 2; configuration, Redis and file failures exit 1. The summary goes to stdout.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent snapshot of every key under redis.prefix to a file.",
        discussion:
            "Writes to the Redis are paused (CLIENT PAUSE WRITE) while the keys are read, then released; "
            + "reads go on. Restore the file with `bedrock restore --from FILE`. See docs/ops/BACKUP.md.")

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "The backup file to write (written to FILE.tmp, then renamed over FILE).")
    var out: String?

    @Option(
        help:
            "Redis: embedded (the data dir's server: the running gateway's, else started for the backup), redis://..., redis-sentinel://... or unix:///path (overrides redis.url)."
    )
    var redis: String?

    func run() throws {
        guard let out, !out.isEmpty else { throw Self.usage("--out is required (the backup file to write)") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Self.usage("--out '\(out)' is a directory: name the backup file")
        }
        let config = try Self.support.configuration(configOptions, redis: redis)
        // A Redis that goes away mid-read must give an error line and exit 1, not a silent SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let (connection, embedded) = try RedisCLIConnection.connectStartingEmbedded(config, failure: Self.failure)
        defer { embedded?.stop() }
        let began = Date()
        let result: RedisSnapshot.Result
        do {
            result = try RedisSnapshot.take(connection: connection, prefix: config.redis.prefix, to: out)
        } catch {
            throw Self.failure("backup of \(connection.address) failed, \(out) not written: \(error)")
        }
        let expired = result.expired > 0 ? "; \(result.expired) key(s) expired while it ran" : ""
        FileHandle.standardOutput.write(
            Data(
                ("backed up \(result.keys) key(s) (\(result.streams) stream(s), \(ByteCount.text(result.payloadBytes)) of payload) "
                    + "under prefix '\(config.redis.prefix)' from \(connection.address) to \(out) "
                    + "(\(ByteCount.text(result.fileBytes))) in "
                    + String(
                        format: "%.2f s; writes paused for %.0f ms", Date().timeIntervalSince(began), result.pausedSeconds * 1000)
                    + expired + "\n").utf8))
    }

    private static let support = SnapshotCommandSupport(command: "backup")
    private static func usage(_ message: String) -> ExitCode { support.usage(message) }
    private static func failure(_ message: String) -> ExitCode { support.failure(message) }
}

/// Byte counts for summaries: `812 B`, `3.4 KB`, `1.2 MB`, `2.0 GB` (powers of 1000).
enum ByteCount {
    static func text(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
