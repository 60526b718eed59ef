import ArgumentParser
import Bedrock
import Foundation
import RedisClient
import TradingCore

/// `bedrock restore --from FILE [--redis URL|embedded] [--force] [--config F] [--data-dir D]`
/// (SPEC §13): loads a `bedrock backup` file. The whole file is read and checked first (format
/// version, structure, checksum, its prefix equal to `redis.prefix`), so a bad file writes
/// nothing. A target already holding keys under the prefix is refused unless `--force`, which
/// deletes them first, so the target ends with exactly the backup's keys. Bad arguments exit 2;
/// configuration, file and Redis failures and refusals exit 1. The summary goes to stdout.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Load a backup file written by `bedrock backup` into Redis.",
        discussion:
            "Refused when the target already holds keys under redis.prefix, unless --force (which replaces them). "
            + "Stop the gateways first. See docs/ops/BACKUP.md.")

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .customLong("from"), help: "The backup file to load.")
    var from: String?

    @Option(
        help:
            "Redis: embedded (the data dir's server: the running gateway's, else started for the restore), redis://..., redis-sentinel://... or unix:///path (overrides redis.url)."
    )
    var redis: String?

    @Flag(help: "Replace the keys the target already holds under redis.prefix (they are deleted first).")
    var force = false

    func run() throws {
        guard let from, !from.isEmpty else { throw Self.usage("--from is required (the backup file to load)") }
        let config = try Self.support.configuration(configOptions, redis: redis)
        let began = Date()
        let file: RedisRestore.Summary
        do { file = try RedisRestore.verify(path: from) } catch {
            throw Self.failure("\(from): \(error); nothing was restored")
        }
        let prefix = file.header.prefix
        guard prefix == config.redis.prefix else {
            throw Self.failure(
                "\(from) holds keys under prefix '\(prefix)' but redis.prefix is '\(config.redis.prefix)': "
                    + "set redis.prefix (BEDROCK_REDIS_PREFIX) to '\(prefix)' to restore it; nothing was restored")
        }
        signal(SIGPIPE, SIG_IGN)
        let (connection, embedded) = try RedisCLIConnection.connectStartingEmbedded(config, failure: Self.failure)
        defer { embedded?.stop() }
        let restored: RedisRestore.Summary
        var replaced = 0
        do {
            let existing = try RedisRestore.countKeys(connection, prefix: prefix)
            if existing > 0 {
                guard force else {
                    throw Self.failure(
                        "\(connection.address) already holds \(existing) Bedrock key(s) under '\(prefix)'; "
                            + "nothing was restored (pass --force to replace them with the backup's)")
                }
                replaced = try RedisRestore.deleteKeys(connection, prefix: prefix)
            }
            restored = try RedisRestore.load(path: from, into: connection, replace: force)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Self.failure("restore into \(connection.address) failed: \(error)")
        }
        let taken = RFC3339.format(milliseconds: Int64(clamping: file.header.createdAtMillis))
        FileHandle.standardOutput.write(
            Data(
                ("restored \(restored.keys) key(s) (\(restored.streams) stream(s), \(ByteCount.text(restored.payloadBytes)) of payload) "
                    + "under prefix '\(prefix)' from \(from) (taken \(taken)) into \(connection.address)"
                    + (replaced > 0 ? ", replacing \(replaced) existing key(s)," : "")
                    + String(format: " in %.2f s", Date().timeIntervalSince(began)) + "\n").utf8))
    }

    private static let support = SnapshotCommandSupport(command: "restore")
    private static func usage(_ message: String) -> ExitCode { support.usage(message) }
    private static func failure(_ message: String) -> ExitCode { support.failure(message) }
}
