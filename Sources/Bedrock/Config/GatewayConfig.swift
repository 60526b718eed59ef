import Foundation
import JWTAuth
import TradingCore

/// The gateway's whole configuration (SPEC §3), immutable after loading.
///
/// Load it with `GatewayConfig.load(_:)`: built-in defaults, then the JSON file, then
/// `BEDROCK_<SECTION>_<KEY>` environment variables, then command-line overrides; every value is
/// validated and the JWT secret resolved (see `JWTSecret`). Every key, its environment variable
/// and default is listed in `docs/CONFIG.md` and `config/bedrock.json`.
public struct GatewayConfig: Sendable, Equatable {
    /// Run mode. `production` is the default when no file or no `mode` key says otherwise.
    public enum Mode: String, Sendable, CaseIterable {
        case dev
        case production
    }

    /// Log verbosity (`log.level`), the swift-log level names.
    public enum LogLevel: String, Sendable, CaseIterable, Comparable {
        case trace, debug, info, notice, warning, error, critical

        public static func < (a: LogLevel, b: LogLevel) -> Bool {
            let all = LogLevel.allCases
            return all.firstIndex(of: a)! < all.firstIndex(of: b)!
        }
    }

    /// Log line format (`log.format`): human text, or one JSON object per line for production.
    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }

    /// `server.*`: the listening socket, HTTP and WebSocket limits.
    public struct Server: Sendable, Equatable {
        /// `server.host`, default `127.0.0.1`.
        public var host = "127.0.0.1"
        /// `server.port`, default 8080; 0 lets the OS pick a free port.
        public var port = 8080
        /// `server.public_dir`, default `public`: the only directory static files come from.
        public var publicDir = "public"
        /// `server.heartbeat_interval_s`, default 30: a server `ping` this often.
        public var heartbeatIntervalS: Double = 30
        /// `server.heartbeat_timeout_s`, default 90: silence this long closes with 4408.
        /// Always greater than `heartbeatIntervalS`.
        public var heartbeatTimeoutS: Double = 90
        /// `server.max_frame_bytes`, default 65536: larger frames close with 1009, larger
        /// request bodies get 413.
        public var maxFrameBytes = 65536
        /// `server.max_connections`, default 20000: authenticated WebSocket sessions; beyond it an
        /// upgrade with a token gets HTTP 503, a first-frame authentication closes 4503.
        public var maxConnections = 20000
        /// `server.max_unauthenticated`, default 0 (automatic: a tenth of `maxConnections`, at
        /// least 1, at most 1024): sockets waiting for first-frame authentication, counted apart
        /// from `maxConnections`. Beyond it a token-less upgrade gets HTTP 503.
        public var maxUnauthenticated = 0
        /// The budget of sockets waiting for authentication in effect.
        public var effectiveMaxUnauthenticated: Int {
            maxUnauthenticated > 0 ? maxUnauthenticated : min(1024, max(1, maxConnections / 10))
        }
        /// `server.max_connections_per_ip`, default 256; 0 for no limit: WebSocket connections
        /// (authenticated or not) one peer address may hold. Beyond it, HTTP 503.
        public var maxConnectionsPerIP = 256
        /// `server.per_ip_exempt`, default `127.0.0.1` and `::1`: peer addresses
        /// `maxConnectionsPerIP` does not apply to (a reverse proxy on the same host shows every
        /// client as loopback; the load generator opens thousands of connections from it).
        public var perIPExempt: [String] = ["127.0.0.1", "::1"]
        /// `server.max_subscriptions_per_connection`, default 200 (deprecated alias
        /// `server.max_topics_per_connection`): subscriptions one connection may hold; a further
        /// `subscribe` gets `RATE_LIMITED` and the connection stays open.
        public var maxSubscriptionsPerConnection = 200
        /// `server.max_connections_per_user`, default 100: authenticated WebSocket connections one
        /// `sub` may hold on this gateway (over all its loops); beyond it the upgrade gets HTTP 429,
        /// or close 4429 when the token came in the first frame.
        public var maxConnectionsPerUser = 100
        /// `server.cors_origins`, default none. `*` allows any origin.
        public var corsOrigins: [String] = []
        /// `server.rate_limit_per_s`, default 50: sustained client messages per second per
        /// connection (token bucket refill rate).
        public var rateLimitPerS: Double = 50
        /// `server.rate_limit_burst`, default 100: token bucket size.
        public var rateLimitBurst = 100
        /// `server.send_queue_max`, default 1024: frames queued per connection before the
        /// slow-consumer policy applies.
        public var sendQueueMax = 1024
        /// `server.service_threads`, default 0 (automatic): event loops serving connections; the
        /// first accepts and hands each connection to the least loaded one.
        public var serviceThreads = 0
        /// The number of service loops to run: `serviceThreads`, or when it is 0 one per CPU core,
        /// at most 4.
        public var effectiveServiceThreads: Int {
            serviceThreads > 0 ? serviceThreads : min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
        }
        /// `server.event_library`, default `libev`: what the service loops wait on — libev (epoll:
        /// a wake-up costs the same whatever the number of sockets) or libwebsockets' own `poll`
        /// loop (for comparison, or a libwebsockets build without the libev plugin). When libev
        /// cannot be loaded the loops fall back to poll by themselves.
        public var eventLibrary: EventLibrary = .libev
        /// `server.api_workers`, default 16: threads running API methods that wait on Redis or
        /// burn CPU (never the event loops); at most this many such calls run at once.
        public var apiWorkers = 16
        /// `server.auth_timeout_s`, default 5: time allowed for first-frame authentication.
        public var authTimeoutS: Double = 5
        /// `server.tls_cert`, default none: PEM certificate; set together with `tlsKey`.
        public var tlsCert: String?
        /// `server.tls_key`, default none: PEM private key; set together with `tlsCert`.
        public var tlsKey: String?

        /// `server.metrics_token`, default none: when set, `/metrics` answers only requests carrying
        /// `Authorization: Bearer <metrics_token>` (never printed or logged).
        public var metricsToken: String?
        /// `server.drain_timeout_s`, default 10: after SIGTERM, how long sockets may wait for
        /// their in-flight answers before they close with 1001, and running jobs may take to
        /// finish before they are interrupted (docs/ops/DRAIN.md).
        public var drainTimeoutS: Double = 10

        /// True when both TLS files are configured (wss:// and https://).
        public var tlsEnabled: Bool { tlsCert != nil && tlsKey != nil }

        public init() {}
    }

    /// `server.event_library` values.
    public enum EventLibrary: String, Sendable, CaseIterable {
        case libev, poll
    }

    /// `redis.*`: the event bus and system of record.
    public struct Redis: Sendable, Equatable {
        /// `redis.url` parsed, default `.embedded`.
        public var endpoint: RedisEndpoint = .embedded
        /// `redis.prefix`, default `bedrock:`.
        public var prefix = "bedrock:"
        /// `redis.stream_maxlen`, default 10000: approximate `MAXLEN ~` for every stream.
        public var streamMaxlen = 10000
        /// `redis.pubsub_bridge`, default empty: pub/sub channel → topic name.
        public var pubsubBridge: [String: String] = [:]
        /// `redis.replay_max`, default 10000: most entries sent in one `since` replay; an older
        /// `since` answers `recovered: false`.
        public var replayMax = 10000
        /// `redis.command_timeout_ms`, default 2000: the longest an API request that needs Redis
        /// waits for its answer, from its arrival (queue wait, connect and every command); past
        /// it the request is answered UNAVAILABLE. While Redis is known not to answer, such
        /// requests are answered UNAVAILABLE at once.
        public var commandTimeoutMs = 2000
        /// `commandTimeoutMs` in seconds.
        public var commandTimeout: Double { Double(commandTimeoutMs) / 1000 }
        /// `redis.min_replicas_to_ack`, default 0 (off): after every ledger write the gateway sends
        /// `WAIT` for this many replicas; fewer acknowledgements answer UNAVAILABLE.
        public var minReplicasToAck = 0
        /// `redis.replica_ack_timeout_ms`, default 1000: the `WAIT` timeout.
        public var replicaAckTimeoutMs = 1000

        public init() {}
    }

    /// `jwt.*`: token verification and signing.
    public struct JWT: Sendable, Equatable {
        /// The HMAC key in effect (never printed). From `jwt.secret` / `BEDROCK_JWT_SECRET`, or
        /// in dev mode the file `<data_dir>/jwt.secret`. At least 32 bytes; empty only in
        /// production with public keys and no secret (then nothing is signed).
        public var secret: String = ""
        /// Where `secret` came from (config value, the dev secret file, or none).
        public var secretOrigin: JWTSecretOrigin = .configured
        /// `jwt.previous_secret`, default none: also verifies HS256 tokens (a rotation window),
        /// never signs. Same rules as the secret. Never printed.
        public var previousSecret: String?
        /// `jwt.public_key_file`, default none: a PEM public key (RSA → RS256, EC P-256 → ES256).
        public var publicKeyFile: String?
        /// `jwt.jwks_file`, default none: a JWKS whose keys tokens pick by `kid`.
        public var jwksFile: String?
        /// The keys read from `publicKeyFile` and `jwksFile` at load time.
        public var publicKeys: [JWTPublicKey] = []
        /// `jwt.issuer`, default none: when set, tokens must carry this `iss` and get it when signed.
        public var issuer: String?
        /// `jwt.audience`, default none: when set, tokens must name it in `aud` (string or array).
        public var audience: String?
        /// `jwt.leeway_s`, default 60: clock skew allowed for `nbf` and `iat` (not for `exp`).
        public var leewayS = 60

        public init() {}
    }

    /// `log.*`.
    public struct Log: Sendable, Equatable {
        /// `log.level`, default `info`.
        public var level: LogLevel = .info
        /// `log.format`, default `text`.
        public var format: LogFormat = .text
        /// `log.requests`, default true: one `http request` line per HTTP answer at `info` (the
        /// probe routes at `debug`); false keeps only the request metrics.
        public var requests = true

        public init() {}
    }

    /// `ledger.*`: the paper-trading ledger and its risk guard (SPEC §8).
    public struct Ledger: Sendable, Equatable {
        /// `ledger.initial_balance`, default 100000: balance of a fresh account (quote currency).
        public var initialBalance: Double = 100_000
        /// `ledger.commission`, default 0.001: commission rate per fill.
        public var commission: Double = 0.001
        /// `ledger.risk_per_trade`, default 0.01: fixed-risk sizing when a signal has no weight.
        public var riskPerTrade: Double = 0.01
        /// `ledger.max_open_positions`, default 5.
        public var maxOpenPositions = 5
        /// `ledger.max_exposure`, default 1.0: open notional as a fraction of equity.
        public var maxExposure: Double = 1.0
        /// `ledger.min_reward_risk`, default 1.5.
        public var minRewardRisk: Double = 1.5
        /// `ledger.daily_loss_limit`, default 0.05: fraction of the day's starting equity.
        public var dailyLossLimit: Double = 0.05
        /// `ledger.max_drawdown`, default 0.25: fraction of peak equity that trips the kill switch.
        public var maxDrawdown: Double = 0.25

        public init() {}
    }

    /// `jobs.*`: the backtest and optimisation job queue (Sources/Bedrock/Jobs, docs/JOBS.md).
    public struct Jobs: Sendable, Equatable {
        /// `jobs.workers`, default 2: job threads (niced, separate from the event loop and API queue).
        public var workers = 2
        /// `jobs.queue_max`, default 32: jobs waiting or running on this gateway; more are RATE_LIMITED.
        public var queueMax = 32
        /// `jobs.per_user_max`, default 4: jobs one user may have waiting or running on this gateway.
        public var perUserMax = 4
        /// `jobs.report_ttl_s`, default 604800 (7 days): how long finished jobs and reports are kept.
        public var reportTTLS = 604_800
        /// `jobs.data_dir`, default `<data_dir>/datasets`: the only directory `dataset` files come from.
        public var dataDir: String?

        public init() {}
    }

    /// `mode`, default `production` (the shipped `config/bedrock.json` says `dev`).
    public var mode: Mode = .production
    /// `data_dir`, default `.bedrock`: embedded Redis data and the dev JWT secret.
    public var dataDir = ".bedrock"
    /// `server.*`
    public var server = Server()
    /// `redis.*`
    public var redis = Redis()
    /// `jwt.*`
    public var jwt = JWT()
    /// `log.*`
    public var log = Log()
    /// `ledger.*`
    public var ledger = Ledger()
    /// `jobs.*`
    public var jobs = Jobs()
    /// `engine.*` (the type is in Sources/Bedrock/Engine/GatewayConfig+Engine.swift)
    public var engine = Engine()
    /// `arbiter.*`: weights and threshold of the live arbiter (GatewayConfig+Arbiter.swift).
    public var arbiter = ArbiterConfig.default
    /// `market_data.*` and `exchanges.*`.
    public var marketData = MarketData()
    /// `llm.*` (Sources/Bedrock/LLM/GatewayConfig+LLM.swift).
    public var llm = LLM()
    /// `circuit.*` (Sources/Bedrock/Circuits/GatewayConfig+Circuit.swift).
    public var circuit = Circuit()
    /// `api.*`: API keys (Sources/Bedrock/Config/GatewayConfig+API.swift).
    public var api = API()
    /// `presence.*` (Sources/Bedrock/Presence/GatewayConfig+Presence.swift).
    public var presence = Presence()
    /// `notifications.*` (Sources/Bedrock/Notifications/GatewayConfig+Notifications.swift).
    public var notifications = Notifications()
    /// The configuration file actually read, or `nil` when built-in defaults were used.
    public var sourceFile: String?

    /// The built-in defaults (mode production, no JWT secret yet).
    public init() {}

    /// The Redis stream key of a topic: `<prefix>stream:<topic name>` (SPEC §7).
    public func streamKey(for topic: Topic) -> String { redis.prefix + "stream:" + topic.name }
}

/// Where the JWT secret in effect came from.
public enum JWTSecretOrigin: Sendable, Equatable {
    /// `jwt.secret` in the file, or `BEDROCK_JWT_SECRET`.
    case configured
    /// Dev mode: read from this file (`<data_dir>/jwt.secret`).
    case devFile(String)
    /// Dev mode: this file was just created with a fresh random secret.
    case devFileCreated(String)
    /// Production with only public keys (`jwt.public_key_file` / `jwt.jwks_file`): tokens come
    /// from an identity provider, the gateway signs none.
    case none
}
