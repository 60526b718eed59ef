import RedisClient

extension RedisAddress {
    /// The address for a configured endpoint; nil for `.embedded`, whose address comes from the
    /// started `EmbeddedRedis` (`EmbeddedRedis(dataDir:).address`). A Sentinel endpoint gets a
    /// fresh `SentinelService` (its own `SentinelWatch`): make the address once and share it.
    public init?(_ endpoint: RedisEndpoint) {
        switch endpoint {
        case .embedded: return nil
        case let .tcp(host, port, password, db): self.init(host: host, port: port, password: password, db: db)
        case let .unix(path, password, db): self.init(unixPath: path, password: password, db: db)
        case let .sentinel(sentinels, master, password, sentinelPassword, db):
            let service = SentinelService(sentinels: sentinels, masterName: master, sentinelPassword: sentinelPassword)
            self.init(sentinel: service, password: password, db: db)
        }
    }
}
