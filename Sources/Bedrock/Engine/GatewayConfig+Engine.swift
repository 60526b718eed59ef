import TradingCore

extension GatewayConfig {
    /// `engine.*`: the live engine (docs/ENGINE.md).
    public struct Engine: Sendable, Equatable {
        /// `engine.strategies`, default `["pullback","oops"]`: the names of the live strategies
        /// (`live` holds their parameters and markets); an empty list disables the engine.
        public var strategies: [String] { live.map(\.name) }
        /// `engine.strategies` in full: each strategy with its parameters and markets.
        public var live = [LiveStrategy(name: "pullback"), LiveStrategy(name: "oops")]
        /// `engine.history_bars`, default 500: rolling history per market + interval.
        public var historyBars = 500
        /// `engine.group`, default `engine`: the consumer group (the key prefix is put in front).
        public var group = "engine"
        /// `engine.consumer`, default `<hostname>-<pid>`: this gateway's consumer name.
        public var consumer: String?
        /// `engine.start_from`, default `0`: where a newly created group starts (`0` or `$`).
        public var startFrom = "0"
        /// `engine.claim_idle_ms`, default 30000: idle time before a crashed consumer's bar is claimed.
        public var claimIdleMs = 30_000
        /// `engine.lease_ms`, default 10000: stream lease (one owner at a time, renewed every third).
        public var leaseMs = 10_000
        /// `engine.discover_interval_ms`, default 2000: how often new kline streams are looked for.
        public var discoverIntervalMs = 2_000
        /// `engine.clock`, default `bar`: ledger time of a bar's writes (`bar` close time or `wall`).
        public var clock = "bar"
        /// `engine.trade_history`, default false: history bars (`"backfill": true`) only warm the
        /// strategies up; true trades them like live bars (simulations).
        public var tradeHistory = false

        public init() {}

        /// Reads and validates the `engine.*` keys.
        static func load(_ raw: RawConfig) throws(ConfigError) -> Engine {
            var e = Engine()
            if let (value, source) = raw.values["engine.strategies"] {
                let text: Bool
                switch source {
                case .environment, .flag: text = true
                case .file, .defaultValue: text = false
                }
                do {
                    e.live = try LiveStrategy.parseList(value, fromText: text)
                } catch {
                    throw ConfigError(key: "engine.strategies", message: error.message, source: source)
                }
            }
            e.historyBars = try raw.int("engine.history_bars", default: e.historyBars, 10...100_000)
            e.group = try raw.string("engine.group", default: e.group)
            e.consumer = try raw.optionalString("engine.consumer")
            e.startFrom = try raw.choice("engine.start_from", default: e.startFrom, ["0", "$"])
            e.claimIdleMs = try raw.int("engine.claim_idle_ms", default: e.claimIdleMs, 100...86_400_000)
            e.leaseMs = try raw.int("engine.lease_ms", default: e.leaseMs, 300...600_000)
            e.discoverIntervalMs = try raw.int("engine.discover_interval_ms", default: e.discoverIntervalMs, 50...3_600_000)
            e.clock = try raw.choice("engine.clock", default: e.clock, ["bar", "wall"])
            e.tradeHistory = try raw.bool("engine.trade_history", default: e.tradeHistory)
            return e
        }
    }
}

extension EngineSettings {
    /// Settings for `bedrock serve`: `redis.prefix`, the `engine.*` and `arbiter.*` keys.
    public init(config: GatewayConfig) {
        let e = config.engine
        self.init(
            prefix: config.redis.prefix, live: e.live, historyBars: e.historyBars, group: e.group,
            consumer: e.consumer, startFrom: e.startFrom, claimIdleMillis: e.claimIdleMs,
            claimIntervalMillis: max(100, min(5_000, e.claimIdleMs / 2)), leaseMillis: e.leaseMs,
            discoverIntervalMillis: e.discoverIntervalMs, barClock: e.clock == "bar",
            arbiter: config.arbiter, tradeHistory: e.tradeHistory)
    }
}
