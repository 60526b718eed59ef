import Foundation
import JWTAuth
import Logging
import RedisClient
import TradingCore

/// Runs `bedrock serve`: starts the embedded Redis when configured, the Redis bridge, the lws
/// loop on the calling thread, and stops all of it on SIGINT/SIGTERM (close 1001 to clients).
/// Logs through swift-log (`LogSetup.bootstrap` first); every metric goes into `registry`, which
/// `/metrics` renders.
public enum GatewayRuntime {
    /// Serve until a signal; throws `GatewayStartError` when something cannot start.
    public static func run(config: GatewayConfig, registry: MetricsRegistry = MetricsRegistry()) throws {
        let log = Logger(label: "bedrock")
        try checkPublicDirectory(config.server.publicDir)
        let methods = MethodTable(
            workers: WorkerPool(threads: config.server.apiWorkers, name: "bedrock-api"),
            callTimeout: config.redis.commandTimeout)
        blockTerminationSignals()
        raiseFileLimit(to: config.server.maxConnections + config.server.effectiveMaxUnauthenticated + 512)
        let services = ServiceList()
        defer { services.stopAll { log.debug("stopping \($0)") } }

        let address: RedisAddress
        if let configured = RedisAddress(config.redis.endpoint) {
            address = configured
        } else {
            let dir = URL(fileURLWithPath: config.dataDir, isDirectory: true)
            let redis = EmbeddedRedis(dataDir: dir)
            do { try redis.start() } catch { throw GatewayStartError("embedded Redis: \(error)") }
            services.started("embedded redis-server") { redis.stop() }
            address = redis.address
        }

        let health = RedisHealth(address: address, timeout: config.redis.commandTimeout)
        health.start()
        services.started("redis probe") { health.stop() }
        methods.redisHealth = health

        let users: UserEvents
        do {
            users = try registerEvents(
                config: config, address: address, methods: methods, registry: registry, services: services)
        } catch {
            throw GatewayStartError("events: \(error)")
        }
        let ledger: Ledger
        do {
            ledger = try registerLedger(config: config, address: address, methods: methods, users: users)
        } catch {
            throw GatewayStartError("ledger: \(error)")
        }
        let startup = StartupProbe(loops: config.server.effectiveServiceThreads)
        startup.start(address: address, scripts: ledger.scripts, timeout: config.redis.commandTimeout)
        services.started("startup probe") { startup.stop(timeout: config.redis.commandTimeout) }
        RedisFailoverMetrics.register(address: address, ledger: ledger, in: registry)
        let models = ModelRegistry(ledger: ledger, arbiter: config.arbiter)
        let circuits = DependencyCircuits(
            dependencies: dependencies(of: config), config: config.circuit, registry: registry)
        methods.circuits = circuits
        let llm = try startLLM(
            config: config, ledger: ledger, address: address, methods: methods, registry: registry, circuits: circuits)
        if let llm { services.started("llm") { llm.stop() } }
        let jobs = JobsModule.register(
            in: methods, config: config, redis: address, metrics: registry,
            modelLoader: models.loader(address: address), models: models.sink(), users: users)
        services.started("job workers") { jobs.stop() }
        let engine: LiveEngine
        do {
            engine = try LiveEngine.startForGateway(
                config: config, address: address, ledger: ledger, methods: methods, models: models,
                metrics: registry, llm: llm)
        } catch {
            throw GatewayStartError("live engine: \(error)")
        }
        services.started("live engine") { engine.stop() }
        if !config.marketData.markets.isEmpty {
            let ingest: MarketIngest
            do {
                ingest = try MarketIngest(
                    config: config, address: address, ledger: ledger, metrics: registry, circuits: circuits)
                try ingest.start()
            } catch {
                throw GatewayStartError("market data: \(error)")
            }
            methods.marketData = ingest
            services.started("market data ingest") { ingest.stop() }
        }
        let slowMetrics = BackgroundMetrics(refresh: [ledgerMetrics(ledger, address: address, registry: registry)])
        slowMetrics.start()
        services.started("metrics refresher") { slowMetrics.stop() }
        if let notifier = NotifierService(config: config, address: address, registry: registry, clock: SystemClock()) {
            notifier.start()
            services.started("notifier") { notifier.stop() }
        }

        let verifier = TokenCheck(config: config)
        let revocations = Revocations()
        if let warning = config.jwt.unboundTokenChecksWarning { log.warning("\(warning)") }
        let relay = GatewayRelay()
        let source = RedisEventSource(
            address: address, prefix: config.redis.prefix, replayMax: config.redis.replayMax,
            channels: config.redis.pubsubBridge, metrics: registry,
            deliver: { events in relay.gateway?.deliver(events) },
            status: { up in
                if up {
                    log.info("redis: connected (\(address))")
                } else {
                    log.warning("redis: unreachable (\(address)); retrying")
                }
            })
        services.started("redis bridge") { source.shutdown() }

        let gateway = Gateway(
            loops: config.server.effectiveServiceThreads, options: GatewayOptions(config), source: source,
            methods: methods, registry: registry, authenticate: { token in revocations.check(verifier.check(token)) })
        let devSignIn = config.mode == .dev ? DevSignIn(signer: JWTSigner(config: config)) : nil
        let openAPI = OpenAPIDocument.bytes(downloads: methods.downloads)
        gateway.configure { loop in
            loop.devSignIn = devSignIn
            loop.openAPI = openAPI
            loop.startup = startup
            loop.revocations = revocations
        }
        relay.gateway = gateway
        let sessions = startSessions(
            config: config, address: address, methods: methods, gateway: gateway, revocations: revocations,
            users: users, log: log)
        services.started("presence") { sessions.stop() }
        try gateway.bind()
        let scheme = config.server.tlsEnabled ? "https" : "http"
        log.info(
            "bedrock: listening on \(scheme)://\(config.server.host):\(config.server.port) (mode \(config.mode.rawValue), redis \(config.redis.endpoint), \(gateway.loops.count) service threads)"
        )
        let drain = GatewayDrain(timeout: config.server.drainTimeoutS, gateway: gateway, jobs: jobs, log: log)
        startSignalWatcher { signal in drain.signalled(signal) }
        gateway.serve()
        drain.waitForJobs()
        log.info("bedrock: stopped")
    }

    /// Sessions across gateways: this gateway's id (logged), its presence writer and control
    /// reader (`SessionControl`), and the `presence.get` / `admin.disconnect` methods.
    private static func startSessions(
        config: GatewayConfig, address: RedisAddress, methods: MethodTable, gateway: Gateway, revocations: Revocations,
        users: UserEvents, log: Logger
    ) -> SessionControl {
        let store = PresenceStore(prefix: config.redis.prefix)
        let control = SessionControl(
            gatewayID: SessionControl.makeGatewayID(), address: address, store: store, book: gateway.presence,
            revocations: revocations, ttl: config.presence.ttlS
        ) { sub, issuedBefore in gateway.closeSessions(of: sub, issuedBeforeMillis: issuedBefore) }
        PresenceMethods.register(
            in: methods, store: store, pool: RedisPool(address: address), users: users, clock: SystemClock())
        log.info("bedrock: gateway id \(control.gatewayID)")
        control.start()
        return control
    }

    /// The outside dependencies with a circuit: each exchange of a configured market, and the
    /// LLM provider when one is set.
    private static func dependencies(of config: GatewayConfig) -> Set<String> {
        var names = Set<String>()
        for market in config.marketData.markets {
            if case .exchange(let exchange) = market.source { names.insert(exchange.rawValue) }
        }
        if config.llm.enabled { names.insert(DependencyCircuits.llm) }
        return names
    }

    /// `server.public_dir` must be a directory: a gateway that would answer 404 to every page
    /// refuses to start instead.
    private static func checkPublicDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw GatewayStartError("server.public_dir: no such directory \"\(path)\"")
        }
        guard isDirectory.boolValue else {
            throw GatewayStartError("server.public_dir: \"\(path)\" is not a directory")
        }
    }

    /// The paper-trading ledger's read/write methods (Sources/Bedrock/Ledger), on pooled
    /// connections to the gateway's Redis.
    private static func registerLedger(
        config: GatewayConfig, address: RedisAddress, methods: MethodTable, users: UserEvents
    ) throws -> Ledger {
        let l = config.ledger
        let settings = LedgerSettings(
            prefix: config.redis.prefix, streamMaxlen: config.redis.streamMaxlen, initialBalance: l.initialBalance,
            commissionRate: l.commission,
            risk: RiskConfig(
                maxOpenPositions: l.maxOpenPositions, maxExposure: l.maxExposure,
                minRewardRisk: l.minRewardRisk, dailyLossLimit: l.dailyLossLimit, maxDrawdown: l.maxDrawdown),
            sizing: SizingConfig(riskPerTrade: l.riskPerTrade),
            replicaAcks: ReplicaAcks(
                count: config.redis.minReplicasToAck, timeoutMillis: config.redis.replicaAckTimeoutMs))
        let ledger = try Ledger(settings: settings)
        let pool = RedisPool(address: address)
        pool.prewarm(methods.workers.size + 1)  // one per API worker thread, one for the snapshot refresher
        LedgerMethods.register(in: methods, ledger: ledger, pool: pool, users: users)
        return ledger
    }

    /// Ledger totals for `/metrics`, read on the metrics thread with its own connection (the
    /// last values stay while Redis does not answer).
    private static func ledgerMetrics(_ ledger: Ledger, address: RedisAddress, registry: MetricsRegistry) -> @Sendable () -> Void
    {
        let connection = UncheckedBox(ConnectionSlot())
        let metrics = UncheckedBox(LedgerMetrics(registry: registry))
        return {
            do {
                if connection.value.current == nil || connection.value.current!.isBroken {
                    connection.value.current = try RedisConnection(address, connectTimeout: 1, readTimeout: 2)
                }
                metrics.value.publish(try ledger.counters(on: connection.value.current!))
            } catch {
                connection.value.current = nil
            }
        }
    }

    private static func blockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    private static func startSignalWatcher(_ handler: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread {
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGINT)
            sigaddset(&set, SIGTERM)
            while true {
                var received: Int32 = 0
                if sigwait(&set, &received) == 0 { handler(received) }
            }
        }
        thread.name = "bedrock-signals"
        thread.start()
    }

    /// Lift the open-file soft limit so `server.max_connections` + `server.max_unauthenticated`
    /// sockets fit.
    private static func raiseFileLimit(to wanted: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let target = min(rlim_t(wanted), limit.rlim_max)
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}

/// One lazily opened connection, used only by the metrics thread.
final class ConnectionSlot {
    var current: RedisConnection?
}

/// Lets the bridge's sink reach the gateway created after it.
final class GatewayRelay: @unchecked Sendable {
    // Sound: written once on the main thread before the bridge can deliver anything that
    // matters (no topic is active before the gateway runs); read afterwards only.
    var gateway: Gateway?
}
