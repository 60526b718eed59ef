import ArgumentParser
import Bedrock
import Foundation

/// What `bedrock backup` and `bedrock restore` share: their one-line errors on stderr and the
/// configuration they read, with `--redis` applied over `redis.url`.
struct SnapshotCommandSupport {
    /// The command's name in its error lines (`backup`, `restore`).
    let command: String

    /// One line on stderr, exit 2 (bad arguments).
    func usage(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("bedrock \(command): \(message)\n".utf8))
        return ExitCode(2)
    }

    /// One line on stderr, exit 1 (configuration, file or Redis failures).
    func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("bedrock \(command): \(message)\n".utf8))
        return ExitCode(1)
    }

    /// The configuration of `options` with `redis` (a `--redis` value, checked first) over
    /// `redis.url`; the JWT secret is not needed and not resolved.
    func configuration(_ options: ConfigOptions, redis: String?) throws -> GatewayConfig {
        if let redis, case let .failure(error) = RedisEndpoint.parse(redis) {
            throw usage("--redis '\(redis)': \(error.message)")
        }
        do {
            return try GatewayConfig.load(
                .init(
                    configFile: options.configFile, dataDir: options.dataDir,
                    overrides: redis.map { [("redis.url", $0, "--redis")] } ?? [], resolveSecret: false))
        } catch {
            throw failure("\(error)")
        }
    }
}
