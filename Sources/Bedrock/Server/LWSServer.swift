import CWebSockets
import Foundation

/// What the service loop reports to its owner. Every call happens on the service thread.
/// Return values follow lws: 0 to carry on, -1 to close the connection.
protocol LWSServerEvents: AnyObject {
    func httpRequest(_ wsi: WSI, path: String) -> Int32
    func httpBody(_ wsi: WSI, chunk: UnsafeRawBufferPointer) -> Int32
    func httpBodyComplete(_ wsi: WSI) -> Int32
    func httpWritable(_ wsi: WSI) -> Int32
    func httpClosed(_ wsi: WSI)
    func confirmUpgrade(_ wsi: WSI) -> Int32
    func established(_ wsi: WSI)
    func receive(_ wsi: WSI, bytes: UnsafeRawBufferPointer, isFinal: Bool, isBinary: Bool) -> Int32
    func writable(_ wsi: WSI) -> Int32
    func closed(_ wsi: WSI)
    func wokenUp()
    func tick()
    /// A connection was accepted on the listening socket (`descriptor`, before lws sets it up).
    /// False when the owner took it elsewhere (a copy of the descriptor handed to another loop);
    /// lws then closes its own descriptor.
    func accepted(descriptor: Int32) -> Bool
}

/// Settings the lws context is created with.
struct LWSServerSettings: Sendable {
    var host: String
    var port: Int
    var tlsCertPath: String?
    var tlsKeyPath: String?
    var maxConnections: Int
    var tickInterval: Double = 0.25
    /// False for the second and later service loops: they listen on no port and serve the
    /// connections the first loop hands over (`adopt(descriptor:)`).
    var listens = true
    /// Serve on libev (epoll: cost per wake-up independent of the number of sockets) instead of
    /// lws's own poll() loop (`server.event_library`); when the libev plugin cannot be loaded the
    /// server falls back to poll() by itself.
    var useLibev: Bool
}

/// Owns the libwebsockets context, its protocol table and the one service thread. All lws
/// pointers of the context live here and are freed in `run()` after the loop stops.
final class LWSServer: @unchecked Sendable {
    // Sound: `context` is created before the thread starts and only used by it, except
    // `lws_cancel_service`, which lws documents as callable from any thread.
    private var context: OpaquePointer?
    private let protocols: UnsafeMutablePointer<lws_protocols>
    private let protocolName: UnsafeMutablePointer<CChar>
    private let hostName: UnsafeMutablePointer<CChar>
    private let certPath: UnsafeMutablePointer<CChar>?
    private let keyPath: UnsafeMutablePointer<CChar>?
    private let tickTimer: UnsafeMutableRawPointer
    /// Timer that destroys the context from inside a libev loop (see `run()`).
    private let stopTimer: UnsafeMutableRawPointer
    private let settings: LWSServerSettings
    private let stopFlag = ManagedAtomicFlag()
    /// Set before the context starts being destroyed: from then on `wake()`, called by other
    /// threads (the Redis reader, sibling loops, workers), leaves the context alone.
    private let destroying = ManagedAtomicFlag()
    /// True when the context runs on libev; set by `bind()` before the loop starts.
    private(set) var onLibev = false
    /// Service thread only: the in-loop destroy was scheduled.
    private var stopScheduled = false
    /// This context's own libev loop (a "foreign" loop to lws); destroyed after the context.
    private var eventLoop: OpaquePointer?
    /// The one-element loop array lws reads `foreign_loops` from during `bind()`.
    private let foreignLoops: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    weak var events: LWSServerEvents?

    /// The WebSocket subprotocol name (SPEC §5).
    static let subprotocol = "bedrock.v1"

    init(settings: LWSServerSettings) {
        self.settings = settings
        protocolName = strdup(LWSServer.subprotocol)
        hostName = strdup(settings.host)
        certPath = settings.tlsCertPath.map { strdup($0) }
        keyPath = settings.tlsKeyPath.map { strdup($0) }
        protocols = .allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = lwsCallback
        protocols[0].per_session_data_size = 0
        protocols[0].rx_buffer_size = 4096
        let sulSize = MemoryLayout<lws_sorted_usec_list_t>.stride
        tickTimer = .allocate(byteCount: sulSize + MemoryLayout<UnsafeRawPointer>.stride, alignment: 16)
        tickTimer.initializeMemory(as: UInt8.self, repeating: 0, count: sulSize + 8)
        stopTimer = .allocate(byteCount: sulSize + MemoryLayout<UnsafeRawPointer>.stride, alignment: 16)
        stopTimer.initializeMemory(as: UInt8.self, repeating: 0, count: sulSize + 8)
        foreignLoops = .allocate(capacity: 1)
        foreignLoops.initialize(to: nil)
    }

    deinit {
        free(protocolName); free(hostName)
        certPath.map { free($0) }; keyPath.map { free($0) }
        protocols.deallocate()
        tickTimer.deallocate()
        stopTimer.deallocate()
        foreignLoops.deallocate()
    }

    /// Create the context and bind the port. Throws with lws's complaint when it cannot.
    func bind() throws {
        lws_set_log_level(Int32(LLL_ERR), nil)
        var info = lws_context_creation_info()
        info.port = settings.listens ? Int32(settings.port) : CONTEXT_PORT_NO_LISTEN_SERVER
        info.iface = settings.listens ? UnsafePointer(hostName) : nil
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        // lws indexes its descriptor table by descriptor number, and with several service loops
        // the numbers are shared by the whole process: size every loop's table for all of them
        // (`GatewayRuntime` raises the open-file limit to max_connections + 512).
        info.fd_limit_per_thread = UInt32(max(1024, settings.maxConnections + 1024))
        info.timeout_secs = 20
        var options = UInt64(LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
        options |= UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
        if settings.tlsCertPath != nil {
            options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            info.ssl_cert_filepath = UnsafePointer(certPath)
            info.ssl_private_key_filepath = UnsafePointer(keyPath)
        }
        var created: OpaquePointer?
        if settings.useLibev, let loop = ev_loop_new(0) {
            info.options = options | UInt64(LWS_SERVER_OPTION_LIBEV)
            foreignLoops.pointee = UnsafeMutableRawPointer(loop)
            info.foreign_loops = foreignLoops
            created = LWSServer.keepingSignalMask { lws_create_context(&info) }
            info.foreign_loops = nil
            if created == nil { ev_loop_destroy(loop) } else { eventLoop = loop }
            onLibev = created != nil
        }
        if created == nil {
            info.options = options
            created = lws_create_context(&info)
        }
        guard let created else {
            throw GatewayStartError("cannot listen on \(settings.host):\(settings.port) (port in use, bad address or TLS files?)")
        }
        context = created
    }

    /// Runs `body` and then restores the calling thread's signal mask: lws starts a libev SIGINT
    /// watcher when it creates a libev context, and libev unblocks SIGINT in that thread, which
    /// would take the signal away from the gateway's own `sigwait` thread (graceful shutdown).
    private static func keepingSignalMask<T>(_ body: () -> T) -> T {
        var saved = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        return body()
    }

    /// Run the service loop on the calling thread until `stop()`; destroys the context on exit.
    /// On libev, `lws_service` runs the libev loop until the context is destroyed from inside it
    /// (`stopTimer`); the second `lws_context_destroy` then frees what is left.
    func run() {
        guard let context else { return }
        scheduleTick()
        while !stopFlag.isSet {
            if lws_service(context, 0) < 0 || onLibev { break }
        }
        destroying.set()
        lws_context_destroy(context)
        self.context = nil
        if let eventLoop { ev_loop_destroy(eventLoop) }
        eventLoop = nil
    }

    /// Serve a connection accepted by another loop (service thread): lws takes `descriptor` over.
    /// False when it could not (the caller closes the descriptor).
    func adopt(descriptor: Int32) -> Bool {
        guard let context, !stopFlag.isSet else { return false }
        return lws_adopt_socket(context, descriptor) != nil
    }

    /// Ask the loop to wake up and call `wokenUp()` (from any thread).
    func wake() {
        guard let context else { return }
        destroying.unlessSet { lws_cancel_service(context) }
    }

    /// Make `run()` return after the current iteration (from any thread). The loop sees the
    /// flag in its wake-up callback; on libev it then destroys the context from a timer, never
    /// from inside a connection's callback.
    func stop() {
        guard !stopFlag.isSet else { return }
        stopFlag.set()
        wake()
    }

    /// Service thread, on a wake-up: the libev loop's way out once `stop()` was called.
    private func stopIfAsked() {
        guard onLibev, stopFlag.isSet, !stopScheduled, context != nil else { return }
        stopScheduled = true
        arm(stopTimer, after: 0.000_001, lwsStopFired)
    }

    fileprivate func scheduleTick() { arm(tickTimer, after: settings.tickInterval, lwsTickFired) }

    /// Arm `timer` (a `lws_sorted_usec_list_t` followed by a pointer to this server) to call
    /// `fire` on the service thread once, `seconds` from now.
    private func arm(_ timer: UnsafeMutableRawPointer, after seconds: Double,
                     _ fire: @escaping @convention(c) (UnsafeMutablePointer<lws_sorted_usec_list_t>?) -> Void) {
        guard let context else { return }
        let sulSize = MemoryLayout<lws_sorted_usec_list_t>.stride
        timer.advanced(by: sulSize).storeBytes(of: Unmanaged.passUnretained(self).toOpaque(), as: UnsafeMutableRawPointer.self)
        lws_sul_schedule(context, 0, timer.assumingMemoryBound(to: lws_sorted_usec_list_t.self), fire,
                         lws_usec_t(seconds * 1_000_000))
    }

    /// The server that armed `sul` (see `arm`).
    fileprivate static func owner(of sul: UnsafeMutablePointer<lws_sorted_usec_list_t>) -> LWSServer {
        let size = MemoryLayout<lws_sorted_usec_list_t>.stride
        let owner = UnsafeMutableRawPointer(sul).advanced(by: size).load(as: UnsafeMutableRawPointer.self)
        return Unmanaged<LWSServer>.fromOpaque(owner).takeUnretainedValue()
    }

    /// The in-loop first stage of destroying a libev context (the stop timer fired).
    fileprivate func destroyFromLoop() {
        guard let context else { return }
        lws_sul_schedule(context, 0, tickTimer.assumingMemoryBound(to: lws_sorted_usec_list_t.self), nil,
                         lws_usec_t(-1))  // LWS_SET_TIMER_USEC_CANCEL
        destroying.set()
        lws_context_destroy(context)
    }

    /// False once a libev loop is on its way out (no more ticks).
    fileprivate var ticking: Bool { !(onLibev && stopScheduled) }

    fileprivate func dispatch(_ wsi: WSI, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        guard let events else { return 0 }
        switch reason {
        case LWS_CALLBACK_HTTP:
            let path = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "/"
            return events.httpRequest(wsi, path: path)
        case LWS_CALLBACK_HTTP_BODY:
            return events.httpBody(wsi, chunk: UnsafeRawBufferPointer(start: input, count: length))
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            return events.httpBodyComplete(wsi)
        case LWS_CALLBACK_HTTP_WRITEABLE:
            return events.httpWritable(wsi)
        case LWS_CALLBACK_HTTP_FILE_COMPLETION:
            return lws_http_transaction_completed(wsi.raw) != 0 ? -1 : 0
        case LWS_CALLBACK_CLOSED_HTTP:
            events.httpClosed(wsi)
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return events.confirmUpgrade(wsi)
        case LWS_CALLBACK_ESTABLISHED:
            events.established(wsi)
        case LWS_CALLBACK_RECEIVE:
            let final = lws_is_final_fragment(wsi.raw) != 0 && lws_remaining_packet_payload(wsi.raw) == 0
            return events.receive(wsi, bytes: UnsafeRawBufferPointer(start: input, count: length),
                                  isFinal: final, isBinary: lws_frame_is_binary(wsi.raw) != 0)
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return events.writable(wsi)
        case LWS_CALLBACK_CLOSED:
            events.closed(wsi)
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            let descriptor = Int32(truncatingIfNeeded: Int(bitPattern: input))
            return events.accepted(descriptor: descriptor) ? 0 : 1
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            events.wokenUp()
            stopIfAsked()
        default:
            break
        }
        return 0
    }
}

/// The one C entry point: finds the owning `LWSServer` through the context user pointer and
/// forwards. Non-capturing, as `@convention(c)` requires.
private func lwsCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                         _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
    if reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS, let user {
        // `user` is the vhost's SSL_CTX. With TLS 1.3 session tickets on, about one wss handshake
        // in a few hundred stalled: the upgrade request was never answered (lws 4.1.6 with
        // OpenSSL 3). Without tickets clients do a full handshake each time, which long-lived
        // WebSocket connections barely notice (tests/integration/test_lifecycle.py).
        bedrock_ssl_ctx_without_tickets(user)
        return 0
    }
    guard let wsi, let context = lws_get_context(wsi), let user = lws_context_user(context) else {
        return 0
    }
    let server = Unmanaged<LWSServer>.fromOpaque(user).takeUnretainedValue()
    return server.dispatch(WSI(raw: wsi), reason, input, length)
}

/// The tick timer fired (service thread): tick, then re-arm.
private func lwsTickFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul else { return }
    let server = LWSServer.owner(of: sul)
    guard server.ticking else { return }
    server.events?.tick()
    server.scheduleTick()
}

/// The stop timer fired (service thread, libev): destroy the context from inside the loop.
private func lwsStopFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul else { return }
    LWSServer.owner(of: sul).destroyFromLoop()
}

/// Why the gateway could not start (exit 1 with this message).
public struct GatewayStartError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A set-once flag readable from any thread.
final class ManagedAtomicFlag: @unchecked Sendable {
    // Sound: every access holds `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    /// Set the flag; waits for an `unlessSet` body in progress, and none starts afterwards.
    func set() { lock.lock(); value = true; lock.unlock() }
    /// Run `body` (holding the flag's lock) unless the flag is set.
    func unlessSet(_ body: () -> Void) { lock.lock(); defer { lock.unlock() }; if !value { body() } }
}
