import CWebSockets
import Foundation

/// Thousands of WebSocket client connections on ONE libwebsockets context, serviced by the thread
/// that calls `run`. Every lws pointer lives here; connection state is a flat array indexed by
/// the number stored in each wsi's opaque user data (index + 1), so a connection costs ~100 bytes
/// of Swift state plus lws's own wsi and receive buffer.
final class ClientPool: ClientConnections, @unchecked Sendable {
    // Sound: all state is touched only on the thread inside `run()`; no other thread sees `self`.
    let options: Options
    private var context: OpaquePointer?
    private let protocols: UnsafeMutablePointer<lws_protocols>
    private let protocolName: UnsafeMutablePointer<CChar>
    private let hostName: UnsafeMutablePointer<CChar>
    private let timer: UnsafeMutableRawPointer
    private let writeBuffer: UnsafeMutableRawPointer
    /// Retry/idle policy of every connection: all zero, so lws never sends its own "validity"
    /// PINGs (by default after 300 s without a PONG, hanging up 10 s later). A browser does not
    /// either; lws still answers the server's PINGs. Alive as long as the pool.
    private let idlePolicy: UnsafeMutablePointer<lws_retry_bo_t>
    private let headroom = Int(bedrock_lws_pre)
    private var tokens: [String]
    /// Per-connection state, index = connection number.
    var conns: ContiguousArray<ConnState>
    let stats: PoolStats
    let scanner: FrameScanner
    let messages: ClientMessages
    private var driver: ((ClientPool) -> Bool)?
    private var running = false
    /// Set when the scenario is over: closes from here on are expected.
    private(set) var finishing = false
    /// Send `subscribe` as soon as a connection is welcomed.
    var autoSubscribe = false
    private let tickMicros: lws_usec_t = 5_000
    /// The requests of the `request`, `mixed` and `soak` scenarios (nil: this pool sends none).
    var requests: RequestTracker?

    /// A pool for `options.connections` connections using `tokens` round-robin.
    init(options: Options, tokens: [String]) {
        self.options = options
        self.tokens = tokens
        conns = ContiguousArray(repeating: ConnState(), count: options.connections)
        stats = PoolStats()
        scanner = FrameScanner(topic: options.topic)
        messages = ClientMessages(options)
        protocolName = strdup("bedrock.v1")
        hostName = strdup(options.host)
        protocols = .allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = poolCallback
        protocols[0].rx_buffer_size = options.rxBuffer
        let sulSize = MemoryLayout<lws_sorted_usec_list_t>.stride
        timer = .allocate(byteCount: sulSize + 16, alignment: 16)
        timer.initializeMemory(as: UInt8.self, repeating: 0, count: sulSize + 16)
        writeBuffer = .allocate(byteCount: Int(bedrock_lws_pre) + messages.largest, alignment: 16)
        idlePolicy = .allocate(capacity: 1)
        idlePolicy.initialize(to: lws_retry_bo_t())
    }

    deinit {
        free(protocolName); free(hostName)
        protocols.deallocate(); timer.deallocate(); writeBuffer.deallocate(); idlePolicy.deallocate()
    }

    /// Create the context and service it, calling `driver` every 5 ms until it returns false.
    /// Then every connection is dropped and the context destroyed. Returns false if lws failed.
    func run(_ driver: @escaping (ClientPool) -> Bool) -> Bool {
        lws_set_log_level(0, nil)
        var info = lws_context_creation_info()
        info.port = -1  // CONTEXT_PORT_NO_LISTEN: client only
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.fd_limit_per_thread = UInt32(options.connections + 64)
        info.timeout_secs = UInt32(max(5, min(options.phaseTimeout, 60)))
        // libev (epoll) instead of poll(): poll() costs O(connections) per wake-up, which made
        // the client, not the gateway, the bottleneck with 1,000+ sockets.
        if options.eventLib == "ev" { info.options |= UInt64(LWS_SERVER_OPTION_LIBEV) }
        guard let created = lws_create_context(&info) else { return false }
        context = created
        self.driver = driver
        running = true
        schedule()
        while running {
            // With an event library lws_service runs the library's loop until `stop()`
            // destroys the context from inside it.
            if lws_service(created, 0) < 0 || usesEventLib { break }
        }
        finishing = true
        if !destroyed { destroyed = true; lws_context_destroy(created) } else { lws_context_destroy(created) }
        context = nil
        return true
    }

    private var usesEventLib: Bool { options.eventLib == "ev" }
    private var destroyed = false

    /// Start connection `index` (loop thread). Returns false if lws refused at once.
    @discardableResult
    func connect(_ index: Int) -> Bool {
        guard let context else { return false }
        conns[index].phase = .connecting
        stats.started += 1
        var ci = lws_client_connect_info()
        ci.context = context
        ci.port = Int32(options.port)
        ci.ietf_version_or_minus_one = -1
        ci.opaque_user_data = UnsafeMutableRawPointer(bitPattern: index + 1)
        ci.retry_and_idle_policy = UnsafePointer(idlePolicy)
        let path = tokens.isEmpty ? options.path : "\(options.path)?token=\(tokens[index % tokens.count])"
        let wsi: OpaquePointer? = path.withCString { p in
            ci.address = UnsafePointer(hostName)
            ci.host = UnsafePointer(hostName)
            ci.origin = UnsafePointer(hostName)
            ci.path = p
            ci.protocol = UnsafePointer(protocolName)
            return lws_client_connect_via_info(&ci)
        }
        if wsi == nil && conns[index].phase == .connecting {
            fail(index, "lws_client_connect_via_info refused")
            return false
        }
        return true
    }

    /// Stop servicing: the loop returns as soon as the current wait is cancelled.
    func stop() {
        running = false
        guard let context else { return }
        if usesEventLib {
            // Called on the loop thread (from the tick): lws tears down and ev_run returns.
            finishing = true
            destroyed = true
            lws_context_destroy(context)
        } else {
            lws_cancel_service(context)
        }
    }

    func want(_ index: Int, _ bit: UInt8) {
        conns[index].pending |= bit
        if let wsi = conns[index].wsi { lws_callback_on_writable(wsi) }
    }

    private func fail(_ index: Int, _ why: String) {
        conns[index].wsi = nil
        ended(index, why)
    }

    private func schedule() {
        guard let context else { return }
        let sulSize = MemoryLayout<lws_sorted_usec_list_t>.stride
        timer.advanced(by: sulSize).storeBytes(of: Unmanaged.passUnretained(self).toOpaque(), as: UnsafeMutableRawPointer.self)
        lws_sul_schedule(context, 0, timer.assumingMemoryBound(to: lws_sorted_usec_list_t.self), { sul in
            guard let sul else { return }
            let owner = UnsafeMutableRawPointer(sul).advanced(by: MemoryLayout<lws_sorted_usec_list_t>.stride)
                .load(as: UnsafeMutableRawPointer.self)
            let pool = Unmanaged<ClientPool>.fromOpaque(owner).takeUnretainedValue()
            if let driver = pool.driver, driver(pool) { pool.schedule() } else { pool.stop() }
        }, tickMicros)
    }

    fileprivate func dispatch(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        guard let tag = lws_get_opaque_user_data(wsi) else { return 0 }
        let index = Int(bitPattern: tag) - 1
        guard index >= 0, index < conns.count else { return 0 }
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            conns[index].wsi = wsi
            conns[index].phase = .open
            if conns[index].pending != 0 { lws_callback_on_writable(wsi) }
        case LWS_CALLBACK_CLIENT_RECEIVE:
            guard let input else { return 0 }
            let final = lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0
            receive(index, UnsafeRawBufferPointer(start: input, count: length), final: final)
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            return writable(index, wsi)
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let input, length >= 2 {
                let b = UnsafeRawBufferPointer(start: input, count: length)
                conns[index].closeCode = Int32(b[0]) << 8 | Int32(b[1])
            }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            let why = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection error"
            fail(index, why)
        case LWS_CALLBACK_CLIENT_CLOSED:
            fail(index, "closed before welcome (code \(conns[index].closeCode))")
        default:
            break
        }
        return 0
    }

    /// One frame per writable callback: a pong first, then the subscribe, then a request.
    private func writable(_ index: Int, _ wsi: OpaquePointer) -> Int32 {
        let payload = writeBuffer.advanced(by: headroom)
        guard let length = nextPayload(index, into: payload) else { return 0 }
        let n = lws_write(wsi, payload.assumingMemoryBound(to: UInt8.self), length, LWS_WRITE_TEXT)
        if n < Int32(length) { return -1 }
        if conns[index].pending != 0 { lws_callback_on_writable(wsi) }
        return 0
    }
}

/// The one C entry point: finds the pool through the context user pointer.
private func poolCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                          _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let owner = lws_context_user(context) else { return 0 }
    return Unmanaged<ClientPool>.fromOpaque(owner).takeUnretainedValue().dispatch(wsi, reason, input, length)
}
