import Foundation

/// The gateway: owns the lws loop, every connection, topic hubs and HTTP exchanges. All state
/// below is confined to the service thread; other threads only call `post`, `shutdown` and the
/// event sink, which go through the inbox.
public final class Gateway: LWSServerEvents, @unchecked Sendable {
    // Sound: mutable state is touched only on the service thread (lws callbacks and inbox jobs).
    let options: GatewayOptions
    let limits: SessionLimits
    let server: LWSServer
    let inbox = Inbox()
    let source: EventSource
    let authenticate: @Sendable (String) -> Result<Identity, AuthRefusal>
    let metrics = GatewayMetrics()
    let staticFiles: StaticFiles
    let methods: MethodTable
    var connections: [WSI: Connection] = [:]
    var upgrades: [WSI: Identity] = [:]
    var exchanges: [WSI: HTTPExchange] = [:]
    var topics: [String: TopicHub] = [:]
    var activeConnections = 0
    /// Metrics refreshed off the loop (ledger totals), appended to `/metrics`.
    var slowMetrics: BackgroundMetrics?
    /// Dev sign-in (`/dev/token`); set only in dev mode.
    var devSignIn: DevSignIn?
    var nextSessionNumber: UInt64 = 0
    var shuttingDown = false
    var shutdownDeadline = 0.0
    /// Connections fan-out queued frames for in the current bridge batch (see `flushStaged`);
    /// emptied, capacity kept, after each batch.
    var staged: ContiguousArray<Connection> = []
    let batchBuffer: UnsafeMutableRawPointer
    static let batchLimit = 64 * 1024

    init(options: GatewayOptions, source: EventSource, methods: MethodTable = MethodTable(),
         authenticate: @escaping @Sendable (String) -> Result<Identity, AuthRefusal>) {
        self.options = options
        self.methods = methods
        limits = options.limits
        self.source = source
        self.authenticate = authenticate
        server = LWSServer(settings: options.serverSettings)
        staticFiles = StaticFiles(root: options.publicDir)
        batchBuffer = .allocate(byteCount: WSI.headroom + Gateway.batchLimit + 4096, alignment: 16)
        server.events = self
    }

    deinit { batchBuffer.deallocate() }

    /// Bind the port (throws when it cannot), then serve until `shutdown()`; blocks the caller,
    /// which becomes the service thread.
    func run() throws {
        try server.bind()
        server.run()
    }

    /// Bind only; `serve()` runs the loop later (lets the caller report readiness in between).
    func bind() throws { try server.bind() }

    /// Run the loop on the calling thread until shutdown completes.
    func serve() { server.run() }

    /// Run `job` on the service thread (from any thread).
    func post(_ job: @escaping @Sendable () -> Void) {
        if inbox.post(job) { server.wake() }
    }

    /// Begin a graceful shutdown (any thread): every client gets close 1001, then the loop ends.
    public func shutdown() {
        post { [self] in beginShutdown() }
    }

    /// Events from the Redis bridge (reader thread): hand them to the loop in one job.
    func deliver(_ batch: [(topic: String, id: String?, frame: [UInt8])]) {
        let frames = batch.map { (topic: $0.topic, id: $0.id, frame: SharedFrame($0.frame)) }
        let shared = UncheckedBox(frames)
        post { [self] in fanOut(shared.value) }
    }

    private func beginShutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        shutdownDeadline = now() + 2
        for connection in connections.values { requestClose(connection, .goingAway, "server shutting down") }
        if connections.isEmpty { server.stop() }
    }

    func now() -> Double { Date().timeIntervalSince1970 }

    // MARK: LWSServerEvents: loop plumbing

    func wokenUp() {
        for job in inbox.drain() { job() }
        flushStaged()
    }

    func tick() {
        let t = now()
        if shuttingDown {
            if connections.isEmpty || t >= shutdownDeadline { server.stop() }
            return
        }
        for connection in connections.values where connection.pendingClose != nil && connection.closeAt > 0 && t >= connection.closeAt {
            connection.wsi.requestWritable()
        }
        for connection in connections.values where connection.pendingClose == nil {
            perform(connection.machine.tick(now: t), on: connection)
            if !connection.queue.isEmpty || connection.laggingSince != nil { checkLag(connection, now: t) }
        }
    }
}

/// Carries a value the compiler cannot prove Sendable across to the service thread. Used only
/// for values created on one thread and never touched again by it (handed over, not shared).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
