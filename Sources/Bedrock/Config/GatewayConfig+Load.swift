import Foundation
import JSONCodec

extension GatewayConfig {
    /// The default configuration file, relative to the working directory.
    public static let defaultFile = "config/bedrock.json"

    /// What to load: the file, the environment and command-line overrides.
    public struct LoadOptions: Sendable {
        /// `--config F`; `nil` means `config/bedrock.json` if it exists, else built-in defaults.
        public var configFile: String?
        /// `--data-dir DIR`; wins over the file and `BEDROCK_DATA_DIR`.
        public var dataDir: String?
        /// Further flag overrides as (dotted key, value as text, flag name), e.g.
        /// `("server.port", "9000", "--port")`; they win over everything and are validated like
        /// environment values.
        public var overrides: [(key: String, value: String, flag: String)]
        /// The environment to read `BEDROCK_*` from (the process environment by default).
        public var environment: [String: String]
        /// Resolve the JWT secret (and, in dev mode, read or create `<data_dir>/jwt.secret`).
        /// Turn off only for tools that never touch tokens.
        public var resolveSecret: Bool

        /// Creates load options; every argument defaults to "not given".
        public init(
            configFile: String? = nil, dataDir: String? = nil,
            overrides: [(key: String, value: String, flag: String)] = [],
            environment: [String: String] = ProcessInfo.processInfo.environment,
            resolveSecret: Bool = true
        ) {
            self.configFile = configFile
            self.dataDir = dataDir
            self.overrides = overrides
            self.environment = environment
            self.resolveSecret = resolveSecret
        }
    }

    /// Loads and validates the configuration: defaults < file < `BEDROCK_*` < flags; then the JWT
    /// public keys (`JWTKeyFiles`) and secrets (see `JWTSecret.resolve`). Throws `ConfigError`; print its `description` and exit 1.
    public static func load(_ options: LoadOptions = LoadOptions()) throws(ConfigError) -> GatewayConfig {
        var raw = RawConfig()
        var usedFile: String?
        let path = options.configFile ?? defaultFile
        let explicit = options.configFile != nil
        if explicit || FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                let why = FileManager.default.fileExists(atPath: path) ? "cannot read file" : "no such file"
                throw ConfigError(key: nil, message: "\(why) \(path)")
            }
            let object: JSONValue
            do {
                object = try JSONCodec.parse([UInt8](data), rejectDuplicateKeys: false)
            } catch {
                throw ConfigError(key: nil, message: "\(path) is not valid JSON")
            }
            try raw.merge(file: object, path: path)
            usedFile = path
        }
        try raw.merge(environment: options.environment)
        if let dir = options.dataDir { try raw.set("data_dir", dir, flag: "--data-dir") }
        for o in options.overrides { try raw.set(o.key, o.value, flag: o.flag) }

        var config = try build(raw)
        config.sourceFile = usedFile
        if options.resolveSecret {
            if config.mode == .production,
                let refusal = config.jwt.unboundTokenChecksError(source: config.jwt.keyFileKeys.first.map(raw.source(of:)))
            {
                throw refusal
            }
            config.jwt.publicKeys = try JWTKeyFiles.load(raw)
            let (secret, origin) = try JWTSecret.resolve(
                configured: try raw.optionalString("jwt.secret"),
                source: raw.source(of: "jwt.secret"),
                mode: config.mode, dataDir: config.dataDir, publicKeys: !config.jwt.publicKeys.isEmpty)
            config.jwt.secret = secret
            config.jwt.secretOrigin = origin
            if let previous = try raw.optionalString("jwt.previous_secret") {
                try JWTSecret.check(
                    previous, key: "jwt.previous_secret", source: raw.source(of: "jwt.previous_secret"), mode: config.mode)
                config.jwt.previousSecret = previous
            }
        }
        return config
    }

    /// Converts and validates every key (everything but the JWT secret).
    static func build(_ raw: RawConfig) throws(ConfigError) -> GatewayConfig {
        var c = GatewayConfig()
        c.mode = Mode(rawValue: try raw.choice("mode", default: "production", Mode.allCases.map(\.rawValue)))!
        c.dataDir = try raw.string("data_dir", default: ".bedrock")

        var s = Server()
        s.host = try raw.string("server.host", default: s.host)
        s.port = try raw.int("server.port", default: s.port, 0...65535)
        s.publicDir = try raw.string("server.public_dir", default: s.publicDir)
        s.heartbeatIntervalS = try raw.double("server.heartbeat_interval_s", default: s.heartbeatIntervalS, 0.05...86400)
        s.heartbeatTimeoutS = try raw.double("server.heartbeat_timeout_s", default: s.heartbeatTimeoutS, 0.05...86400)
        guard s.heartbeatTimeoutS > s.heartbeatIntervalS else {
            throw ConfigError(
                key: "server.heartbeat_timeout_s",
                message:
                    "must exceed server.heartbeat_interval_s (\(RawConfig.fmt(s.heartbeatIntervalS))), got \(RawConfig.fmt(s.heartbeatTimeoutS))",
                source: raw.source(of: "server.heartbeat_timeout_s"))
        }
        s.maxFrameBytes = try raw.int("server.max_frame_bytes", default: s.maxFrameBytes, 128...(64 << 20))
        s.maxConnections = try raw.int("server.max_connections", default: s.maxConnections, 1...1_000_000)
        s.maxUnauthenticated = try raw.int("server.max_unauthenticated", default: s.maxUnauthenticated, 0...1_000_000)
        s.maxConnectionsPerIP = try raw.int("server.max_connections_per_ip", default: s.maxConnectionsPerIP, 0...1_000_000)
        if raw.source(of: "server.per_ip_exempt") != .defaultValue { s.perIPExempt = try raw.stringList("server.per_ip_exempt") }
        s.maxSubscriptionsPerConnection = try loadSubscriptionLimit(raw, default: s.maxSubscriptionsPerConnection)
        s.maxConnectionsPerUser = try raw.int(
            "server.max_connections_per_user", default: s.maxConnectionsPerUser, 1...1_000_000)
        s.corsOrigins = try raw.stringList("server.cors_origins")
        for origin in s.corsOrigins where !isValidOrigin(origin) {
            throw ConfigError(
                key: "server.cors_origins",
                message: "each origin must be * or scheme://host[:port] (http or https), got \"\(origin)\"",
                source: raw.source(of: "server.cors_origins"))
        }
        s.rateLimitPerS = try raw.double("server.rate_limit_per_s", default: s.rateLimitPerS, 0.1...1_000_000)
        s.rateLimitBurst = try raw.int("server.rate_limit_burst", default: s.rateLimitBurst, 1...1_000_000)
        s.sendQueueMax = try raw.int("server.send_queue_max", default: s.sendQueueMax, 1...1_000_000)
        s.serviceThreads = try raw.int("server.service_threads", default: s.serviceThreads, 0...64)
        s.authTimeoutS = try raw.double("server.auth_timeout_s", default: s.authTimeoutS, 0.05...3600)
        s.eventLibrary = GatewayConfig.EventLibrary(
            rawValue: try raw.choice(
                "server.event_library", default: s.eventLibrary.rawValue, GatewayConfig.EventLibrary.allCases.map(\.rawValue)))!
        s.apiWorkers = try raw.int("server.api_workers", default: s.apiWorkers, 1...256)
        s.metricsToken = try raw.optionalString("server.metrics_token")
        s.drainTimeoutS = try raw.double("server.drain_timeout_s", default: s.drainTimeoutS, 0...3600)
        if let token = s.metricsToken, token.utf8.count < 16 || !token.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) {
            // The value is a secret: say what is wrong, never what it is.
            throw ConfigError(
                key: "server.metrics_token",
                message: "must be at least 16 visible ASCII characters with no spaces (\(token.utf8.count) given)",
                source: raw.source(of: "server.metrics_token"))
        }
        s.tlsCert = try raw.optionalString("server.tls_cert")
        s.tlsKey = try raw.optionalString("server.tls_key")
        switch (s.tlsCert, s.tlsKey) {
        case (nil, nil): break
        case (.some, nil):
            throw ConfigError(
                key: "server.tls_key", message: "must be set when server.tls_cert is set",
                source: raw.source(of: "server.tls_cert"))
        case (nil, .some):
            throw ConfigError(
                key: "server.tls_cert", message: "must be set when server.tls_key is set",
                source: raw.source(of: "server.tls_key"))
        case let (cert?, key?):
            for (k, file) in [("server.tls_cert", cert), ("server.tls_key", key)]
            where !FileManager.default.isReadableFile(atPath: file) {
                throw ConfigError(key: k, message: "no readable file \"\(file)\"", source: raw.source(of: k))
            }
        }
        c.server = s

        var r = Redis()
        let url = try raw.string("redis.url", default: "embedded")
        switch RedisEndpoint.parse(url) {
        case let .success(e): r.endpoint = e
        case let .failure(e):
            // The value is not quoted: it may hold a password.
            throw ConfigError(key: "redis.url", message: e.message, source: raw.source(of: "redis.url"))
        }
        r.prefix = try raw.string("redis.prefix", default: r.prefix)
        if r.prefix.contains(where: { $0 == " " || $0.isNewline }) {
            throw ConfigError(
                key: "redis.prefix", message: "must not contain spaces, got \"\(r.prefix)\"",
                source: raw.source(of: "redis.prefix"))
        }
        r.streamMaxlen = try raw.int("redis.stream_maxlen", default: r.streamMaxlen, 1...1_000_000_000)
        r.replayMax = try raw.int("redis.replay_max", default: r.replayMax, 1...10_000_000)
        r.commandTimeoutMs = try raw.int("redis.command_timeout_ms", default: r.commandTimeoutMs, 10...600_000)
        r.minReplicasToAck = try raw.int("redis.min_replicas_to_ack", default: r.minReplicasToAck, 0...100)
        r.replicaAckTimeoutMs = try raw.int("redis.replica_ack_timeout_ms", default: r.replicaAckTimeoutMs, 1...600_000)
        // A WAIT outlasting the request's own deadline would be cut off as a hung Redis.
        if r.minReplicasToAck > 0 && r.replicaAckTimeoutMs >= r.commandTimeoutMs {
            throw ConfigError(
                key: "redis.replica_ack_timeout_ms",
                message: "must be below redis.command_timeout_ms (\(r.commandTimeoutMs)), got \(r.replicaAckTimeoutMs)",
                source: raw.source(of: "redis.replica_ack_timeout_ms"))
        }
        // The embedded Redis has no replica: every money write would answer 503.
        if r.minReplicasToAck > 0 && r.endpoint == .embedded {
            throw ConfigError(
                key: "redis.min_replicas_to_ack",
                message: "must be 0 with redis.url=embedded (it has no replica), got \(r.minReplicasToAck)",
                source: raw.source(of: "redis.min_replicas_to_ack"))
        }
        // Each topic as its canonical name (`klines:btc-usdt:1h` is `klines:BTCUSDT:1h`, the
        // name subscribers hold).
        r.pubsubBridge = [:]
        for (channel, topic) in try raw.stringMap("redis.pubsub_bridge").sorted(by: { $0.key < $1.key }) {
            guard !channel.isEmpty, let parsed = Topic(topic) else {
                throw ConfigError(
                    key: "redis.pubsub_bridge",
                    message: "channel \"\(channel)\" must map to a valid topic, got \"\(topic)\"",
                    source: raw.source(of: "redis.pubsub_bridge"))
            }
            r.pubsubBridge[channel] = parsed.name
        }
        c.redis = r

        c.jwt.publicKeyFile = try raw.optionalString("jwt.public_key_file")
        c.jwt.jwksFile = try raw.optionalString("jwt.jwks_file")
        c.jwt.issuer = try raw.optionalString("jwt.issuer")
        c.jwt.audience = try raw.optionalString("jwt.audience")
        c.jwt.leewayS = try raw.int("jwt.leeway_s", default: c.jwt.leewayS, 0...3600)

        // SPEC §13 spells `warning` as `warn`; both are accepted.
        let warn = raw.values["log.level"]?.value.stringValue == "warn"
        c.log.level =
            warn ? .warning : LogLevel(rawValue: try raw.choice("log.level", default: "info", LogLevel.allCases.map(\.rawValue)))!
        c.log.format = LogFormat(rawValue: try raw.choice("log.format", default: "text", LogFormat.allCases.map(\.rawValue)))!
        c.log.requests = try raw.bool("log.requests", default: c.log.requests)
        var l = Ledger()
        l.initialBalance = try raw.double("ledger.initial_balance", default: l.initialBalance, 0.01...10_000_000)
        l.commission = try raw.double("ledger.commission", default: l.commission, 0...0.1)
        l.riskPerTrade = try raw.double("ledger.risk_per_trade", default: l.riskPerTrade, 0.0001...1)
        l.maxOpenPositions = try raw.int("ledger.max_open_positions", default: l.maxOpenPositions, 1...1000)
        l.maxExposure = try raw.double("ledger.max_exposure", default: l.maxExposure, 0.01...100)
        l.minRewardRisk = try raw.double("ledger.min_reward_risk", default: l.minRewardRisk, 0...100)
        l.dailyLossLimit = try raw.double("ledger.daily_loss_limit", default: l.dailyLossLimit, 0.0001...1)
        l.maxDrawdown = try raw.double("ledger.max_drawdown", default: l.maxDrawdown, 0.0001...1)
        c.ledger = l
        var j = Jobs()
        j.workers = try raw.int("jobs.workers", default: j.workers, 1...64)
        j.queueMax = try raw.int("jobs.queue_max", default: j.queueMax, 1...100_000)
        j.perUserMax = try raw.int("jobs.per_user_max", default: j.perUserMax, 1...100_000)
        j.reportTTLS = try raw.int("jobs.report_ttl_s", default: j.reportTTLS, 60...31_536_000)
        j.dataDir = try raw.optionalString("jobs.data_dir")
        c.jobs = j
        c.engine = try Engine.load(raw)
        c.arbiter = try GatewayConfig.loadArbiter(raw)
        c.llm = try LLM.load(raw)
        c.marketData = try MarketData.load(raw)
        c.circuit = try Circuit.load(raw)
        c.api = try API.load(raw)
        c.presence = try Presence.load(raw)
        c.notifications = try Notifications.load(raw)
        return c
    }

    /// `*`, or `http(s)://host[:port]` with no path.
    static func isValidOrigin(_ o: String) -> Bool {
        if o == "*" { return true }
        for scheme in ["http://", "https://"] where o.hasPrefix(scheme) {
            let rest = o.dropFirst(scheme.count)
            return !rest.isEmpty && !rest.contains(where: { $0 == "/" || $0 == " " || $0 == "?" || $0 == "#" })
        }
        return false
    }
}
