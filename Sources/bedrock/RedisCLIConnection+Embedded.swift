import Bedrock
import Foundation
import RedisClient

extension RedisCLIConnection {
    /// For commands that work on a gateway's data whether or not the gateway runs (`bedrock
    /// backup`, `bedrock restore`): like `connect`, except that with `embedded` and no server
    /// answering on `<data_dir>/redis.sock` it starts the data directory's own embedded
    /// redis-server (which loads its AOF) for the command's duration. The caller stops the
    /// returned server when done (its AOF keeps what was written).
    static func connectStartingEmbedded(
        _ config: GatewayConfig, failure: (String) -> Error
    ) throws -> (RedisConnection, EmbeddedRedis?) {
        guard config.redis.endpoint == .embedded else { return (try connect(config, failure: failure), nil) }
        let embedded = EmbeddedRedis(dataDir: URL(fileURLWithPath: config.dataDir, isDirectory: true))
        if let running = try? RedisConnection(embedded.address), (try? running.command(["PING"])) == .status("PONG") {
            return (running, nil)  // the gateway's own server is up
        }
        do { try embedded.start() } catch {
            throw failure("cannot start the embedded Redis of data_dir \(config.dataDir): \(error)")
        }
        do { return (try RedisConnection(embedded.address), embedded) } catch {
            embedded.stop()
            throw failure("cannot connect to the embedded Redis at \(embedded.socketPath): \(error)")
        }
    }
}
