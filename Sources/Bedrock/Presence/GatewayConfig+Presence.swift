extension GatewayConfig {
    /// `presence.*`: who is connected, as every gateway publishes it in Redis (docs/REDIS_LAYOUT.md).
    public struct Presence: Sendable, Equatable {
        /// `presence.ttl_s` (15): seconds a gateway's published connections live in Redis without
        /// a refresh (refreshed every third of it), so a killed gateway's vanish within it.
        public var ttlS: Double = 15

        /// The defaults.
        public init() {}

        /// Reads and checks `presence.*` (an error names the key).
        static func load(_ raw: RawConfig) throws(ConfigError) -> Presence {
            var p = Presence()
            p.ttlS = try raw.double("presence.ttl_s", default: p.ttlS, 1...3600)
            return p
        }
    }

    /// `server.max_subscriptions_per_connection`, or its deprecated alias
    /// `server.max_topics_per_connection` when only that one is set.
    static func loadSubscriptionLimit(_ raw: RawConfig, default fallback: Int) throws(ConfigError) -> Int {
        let key = "server.max_subscriptions_per_connection"
        let alias = "server.max_topics_per_connection"
        if raw.source(of: key) == .defaultValue, raw.source(of: alias) != .defaultValue {
            return try raw.int(alias, default: fallback, 1...1_000_000)
        }
        return try raw.int(key, default: fallback, 1...1_000_000)
    }
}
