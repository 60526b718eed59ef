import RedisClient

/// One Redis connection opened on first use and reopened after an error, for one thread.
final class LazyRedisConnection: @unchecked Sendable {
    // Sound: used by the one thread that made it.
    private var connection: RedisConnection?
    private let address: RedisAddress

    init(address: RedisAddress) { self.address = address }

    /// Runs `body` on the connection; drops the connection when it throws.
    func with<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        if connection == nil || connection!.isBroken {
            connection = try RedisConnection(address, connectTimeout: 2, readTimeout: 5)
        }
        do {
            return try body(connection!)
        } catch {
            connection = nil
            throw error
        }
    }
}
