import Bedrock
import Foundation
import RedisClient

/// The Redis connection of a command that writes to a running gateway's Redis (`bedrock replay`,
/// `bedrock backfill --redis`): the configured URL, or with `embedded` the socket of the gateway
/// running on the same data directory.
enum RedisCLIConnection {
    /// Connects; a failure becomes `failure(message)` (the command's exit 1).
    static func connect(_ config: GatewayConfig, failure: (String) -> Error) throws -> RedisConnection {
        let address: RedisAddress
        if let configured = RedisAddress(config.redis.endpoint) {
            address = configured
        } else {
            let embedded = EmbeddedRedis(dataDir: URL(fileURLWithPath: config.dataDir, isDirectory: true))
            guard FileManager.default.fileExists(atPath: embedded.socketPath) else {
                throw failure(
                    "no embedded Redis at \(embedded.socketPath): start the gateway first "
                        + "(`bedrock serve` or `make run` with data_dir \(config.dataDir)), or pass --redis URL")
            }
            address = embedded.address
        }
        do { return try RedisConnection(address) } catch {
            throw failure("cannot connect to Redis at \(address): \(error)")
        }
    }
}
