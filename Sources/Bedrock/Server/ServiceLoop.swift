import Foundation
import GatewayCore
import JSONCodec
import Logging
import Transport

/// One service loop of the gateway: owns an lws context, the connections it serves, their topic
/// hubs and HTTP exchanges. All state below is confined to the loop's service thread; other
/// threads only call `post`, `shutdown` and the event sink, which go through the inbox. A
/// `Gateway` runs several of these behind one port; what they share is in `census`.
public final class ServiceLoop: @unchecked Sendable {
    // Sound: mutable state is touched only on the service thread (lws callbacks and inbox jobs).
    let options: GatewayOptions
    let limits: SessionLimits
    let server: LWSServer
    let inbox = Inbox()
    /// The loop's thread, for the debug assertions of loop-only code.
    let affinity = LoopAffinity()
    let source: EventSource
    let authenticate: @Sendable (String) -> Result<Identity, AuthRefusal>
    /// This loop's counters; `/metrics` publishes them into the group's registry.
    let metrics: GatewayMetrics
    /// The gauges computed when `/metrics` is scraped.
    let gauges: GatewayGauges
    /// Socket close lines (SPEC §13).
    let log = Logger(label: "bedrock.gateway")
    /// The `http request` line of every HTTP answer (SPEC §13).
    let accessLog: AccessLog
    /// Monotonic time for deadlines, wall time for token expiry and timestamps.
    let clock: GatewayClock
    /// This loop's place in its group (0 listens and hands connections to the others).
    let index: Int
    /// Connection counts and session numbers shared by every loop of the group.
    let census: LoopCensus
    /// Who may open a WebSocket connection, judged on `census`.
    let budget: ConnectionBudget
    /// Who is connected to the gateway (shared by every loop of the group): presence, the
    /// per-user connection limit and the presence gauges.
    let presence: PresenceBook
    /// Every loop of the group, this one included (set once before serving).
    var siblings: [ServiceLoop] = []
    let staticFiles: StaticFiles
    let methods: MethodTable
    var connections: [WSI: Connection] = [:]
    /// The same connections by serial number: how late answers find theirs (`respondLater`).
    var sessions: [UInt64: Connection] = [:]
    /// The last connection serial handed out on this loop.
    var nextSerial: UInt64 = 0
    var upgrades: [WSI: Identity] = [:]
    /// Upgrades whose user was disconnected or revoked before they were established: closed
    /// with this code as soon as they are (`enterPresence`).
    var closedUpgrades: [WSI: (code: CloseCode, reason: String)] = [:]
    /// The revoked users (set before serving), checked again when a socket enters presence.
    var revocations: Revocations?
    var exchanges: [WSI: HTTPExchange] = [:]
    /// The same exchanges by serial number, while they wait for their answer.
    var pendingExchanges: [UInt64: HTTPExchange] = [:]
    /// Worker-run API calls waiting for their answer, each with its deadline (the watchdog).
    var awaited = AnswerDeadlines<(target: AwaitedAnswer, method: Method?)>()
    /// When the watchdog's alarm is set to fire (monotonic seconds); nil when it is not armed.
    var alarmAt: Double?
    /// Subscriptions: pending → replaying → live, live events held behind replays.
    let router: TopicRouter<Connection, SharedFrame, JSONValue>
    /// The slow-consumer thresholds of every connection's send queue.
    let outboundPolicy: OutboundPolicy
    /// Dev sign-in (`/dev/token`); set only in dev mode.
    var devSignIn: DevSignIn?
    /// The bytes of `GET /v1/openapi.json` (`OpenAPIDocument`, built once before serving).
    var openAPI: [UInt8] = []
    /// What `/health/startup` waits for (set before serving; without one it answers `started`).
    var startup: StartupProbe?
    /// Draining (after SIGTERM): `/ready` 503, new upgrades and requests refused.
    var shuttingDown = false
    /// When the drain stops waiting for in-flight answers and closes every socket.
    var shutdownDeadline = 0.0
    /// True once the drain's deadline has closed whatever was still open.
    var drainForced = false
    /// Connections fan-out queued frames for in the current bridge batch (see `flushStaged`);
    /// emptied, capacity kept, after each batch.
    var staged: ContiguousArray<Connection> = []
    /// Scratch for batched writes: headroom + one batch (`OutboundPolicy.batchBytes`).
    let batchBuffer: UnsafeMutableRawPointer

    init(
        options: GatewayOptions, source: EventSource, methods: MethodTable = MethodTable(),
        index: Int, census: LoopCensus, presence: PresenceBook? = nil, registry: MetricsRegistry,
        authenticate: @escaping @Sendable (String) -> Result<Identity, AuthRefusal>
    ) {
        self.options = options
        self.index = index
        self.census = census
        self.presence = presence ?? PresenceBook(maxPerUser: options.server.maxConnectionsPerUser)
        budget = ConnectionBudget(options.server)
        metrics = GatewayMetrics(registry: registry)
        gauges = GatewayGauges(registry: registry, loops: census.loops)
        self.methods = methods
        accessLog = AccessLog(options.log)
        limits = options.limits
        clock = options.clock
        outboundPolicy = .gateway(sendQueueMax: options.limits.sendQueueMax)
        router = TopicRouter(heldLimit: outboundPolicy.hardLimit)
        self.source = source
        self.authenticate = authenticate
        var settings = options.serverSettings
        settings.listens = index == 0
        server = LWSServer(settings: settings)
        staticFiles = StaticFiles(root: options.publicDir)
        batchBuffer = .allocate(byteCount: WSI.headroom + outboundPolicy.batchBytes + 4096, alignment: 16)
        server.events = ServiceLoopEvents(self)
    }

    deinit { batchBuffer.deallocate() }

    /// Bind only; `serve()` runs the loop later (lets the caller report readiness in between).
    func bind() throws { try server.bind() }

    /// Run the loop on the calling thread until shutdown completes.
    func serve() {
        affinity.claim()
        post { [self] in startup?.loopRunning(index) }  // runs once the loop serves its inbox
        server.run()
    }

    /// Run `job` on the service thread (from any thread).
    func post(_ job: @escaping @Sendable () -> Void) {
        if inbox.post(job) { server.wake() }
    }

    /// Begin a graceful drain (any thread): `/ready` answers 503 and new upgrades and requests
    /// are refused at once; answers in flight are sent, then every client gets close 1001
    /// (within `seconds` at the latest), then the loop ends (`ServiceLoop+Drain`).
    public func shutdown(within seconds: Double = 10) {
        post { [self] in beginDrain(within: seconds) }
    }

    /// Events from the Redis bridge (reader thread): hand them to the loop in one job.
    func deliver(_ batch: [BridgedEvent]) {
        let frames = batch.map { (topic: $0.topic, id: $0.id, frame: SharedFrame($0.frame), isGap: $0.isGap) }
        let shared = UncheckedBox(frames)
        post { [self] in fanOut(shared.value) }
    }

    /// Seconds on the monotonic clock: every deadline of the loop.
    func now() -> Double { clock.read().monotonic }

    /// Loop 0, on a connection its listening socket accepted: keep it, or hand a copy of the
    /// descriptor to the sibling loop holding the fewest connections (lws then closes its own).
    func accepted(descriptor: Int32) -> Bool {
        guard siblings.count > 1, !shuttingDown else { return true }
        let target = census.loopForNewConnection()
        guard target != index else { return true }
        let copy = dup(descriptor)
        guard copy >= 0 else { return true }
        let sibling = siblings[target]
        sibling.post { [sibling] in sibling.adoptHandedOver(copy) }
        return false
    }

    /// A sibling handed this loop a connection: lws serves it from here on — also while
    /// draining (loop 0 may have handed it over before it heard of the drain): it gets the
    /// drain's answers (`/ready` 503, 503 to anything else), not a reset.
    private func adoptHandedOver(_ descriptor: Int32) {
        if !server.adopt(descriptor: descriptor) { close(descriptor) }
    }

    // MARK: LWSServerEvents: loop plumbing

    func wokenUp() {
        affinity.assertOnLoop("the inbox")
        for job in inbox.drain() { job() }
        flushStaged()
    }

    func tick() {
        affinity.assertOnLoop("the clock tick")
        let reading = clock.read()
        let t = reading.monotonic
        if shuttingDown {
            drainTick(now: t)
            return
        }
        for connection in connections.values {
            if connection.outbound.closing != nil {
                if connection.outbound.closeDue(now: t) { connection.wsi.requestWritable() }
                continue
            }
            perform(connection.machine.tick(at: reading), on: connection)
            checkLag(connection, now: t)
        }
    }
}

/// Carries a value the compiler cannot prove Sendable across to the service thread. Used only
/// for values created on one thread and never touched again by it (handed over, not shared).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
