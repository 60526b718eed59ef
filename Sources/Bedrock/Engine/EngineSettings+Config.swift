extension EngineSettings {
    /// Settings for `bedrock serve`: the key prefix from `redis.prefix`, everything else at the
    /// documented defaults (the `engine.*` keys of the table on `EngineSettings`, once the
    /// configuration loader knows them, are applied by the caller on top).
    public init(config: GatewayConfig) {
        self.init(prefix: config.redis.prefix)
    }
}
