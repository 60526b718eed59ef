extension GatewayConfig {
    /// `circuit.*`: the circuit breakers of the outside dependencies (each exchange's REST API, the
    /// LLM provider; docs/ops/BREAKERS.md).
    public struct Circuit: Sendable, Equatable {
        /// `circuit.failure_threshold` (5): failed calls in a row that open a dependency's circuit.
        public var failureThreshold = 5
        /// `circuit.cooldown_s` (30): seconds an open circuit sends nothing before one probe call.
        public var cooldownS: Double = 30

        /// The defaults.
        public init() {}

        /// Reads and checks `circuit.*` (an error names the key).
        static func load(_ raw: RawConfig) throws(ConfigError) -> Circuit {
            var c = Circuit()
            c.failureThreshold = try raw.int("circuit.failure_threshold", default: c.failureThreshold, 1...1_000)
            c.cooldownS = try raw.double("circuit.cooldown_s", default: c.cooldownS, 0.1...86_400)
            return c
        }
    }
}
