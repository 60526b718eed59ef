import RedisClient

extension RedisAddress {
    /// The address for a configured endpoint; nil for `.embedded`, whose address comes from the
    /// started `EmbeddedRedis` (`EmbeddedRedis(dataDir:).address`).
    public init?(_ endpoint: RedisEndpoint) {
        switch endpoint {
        case .embedded: return nil
        case let .tcp(host, port, password, db): self.init(host: host, port: port, password: password, db: db)
        case let .unix(path, password, db): self.init(unixPath: path, password: password, db: db)
        }
    }
}
