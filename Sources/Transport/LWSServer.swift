internal import CWebSockets
import Foundation
import Synchronization

/// What the service loop reports to its owner. Every call happens on the service thread, and the
/// `WSI` handles passed are valid only there and only until the connection's close call.
/// Return values follow lws: 0 to carry on, -1 to close the connection.
public protocol LWSServerEvents: AnyObject {
    /// An HTTP request head arrived for `path`.
    func httpRequest(_ wsi: WSI, path: String) -> Int32
    /// A piece of the request body (valid only during the call).
    func httpBody(_ wsi: WSI, chunk: UnsafeRawBufferPointer) -> Int32
    /// The request body is complete.
    func httpBodyComplete(_ wsi: WSI) -> Int32
    /// The HTTP connection can take a write (after `requestWritable()`).
    func httpWritable(_ wsi: WSI) -> Int32
    /// The HTTP connection closed.
    func httpClosed(_ wsi: WSI)
    /// A WebSocket upgrade request: 0 accepts it; to refuse, write a response
    /// (`writeHTTPResponse(..., upgradeRefusal: true)`) and return 1, or return -1 to drop it.
    func confirmUpgrade(_ wsi: WSI) -> Int32
    /// The WebSocket handshake completed.
    func established(_ wsi: WSI)
    /// A piece of a WebSocket message (valid only during the call); `isFinal` on its last piece.
    func receive(_ wsi: WSI, bytes: UnsafeRawBufferPointer, isFinal: Bool, isBinary: Bool) -> Int32
    /// The WebSocket connection can take one write (after `requestWritable()`).
    func writable(_ wsi: WSI) -> Int32
    /// The peer sent a close frame: its `code` (1005 when it gave none) and `reason`.
    func peerClosing(_ wsi: WSI, code: Int, reason: String)
    /// The WebSocket connection closed; `wsi` is invalid after this call.
    func closed(_ wsi: WSI)
    /// A `CONNECT` request (lws turns these into raw sockets): the complete HTTP response to
    /// write before the connection is closed.
    func tunnelRefusal() -> [UInt8]
    /// `wake()` was called (from any thread) since the last call.
    func wokenUp()
    /// Every `LWSServerSettings.tickInterval` seconds.
    func tick()
    /// The time given to the last `LWSServer.setAlarm(afterSeconds:)` has come.
    func alarm()
    /// A connection was accepted on the listening socket (`descriptor`, before lws sets it up).
    /// False when the owner took it elsewhere (a copy of the descriptor handed to another loop);
    /// lws then closes its own descriptor.
    func accepted(descriptor: Int32) -> Bool
}

/// Settings the lws context of a service loop is created with.
public struct LWSServerSettings: Sendable {
    /// The address the first loop listens on.
    public var host: String
    /// The port the first loop listens on.
    public var port: Int
    /// The PEM certificate file; TLS (https, wss) when it and `tlsKeyPath` are set.
    public var tlsCertPath: String?
    /// The PEM private key of `tlsCertPath`.
    public var tlsKeyPath: String?
    /// Connections the whole process may hold (sizes the descriptor table).
    public var maxConnections: Int
    /// Bytes lws may hold of one request head (request line and all headers): the buffer each
    /// connection borrows while its head is parsed and its request answered. A head that does
    /// not fit is dropped by lws without an answer, so this is set above the limits the owner
    /// enforces (and answers) itself.
    public var maxHeadBytes = 32 << 10
    /// Seconds between `tick()` calls.
    public var tickInterval: Double = 0.25
    /// False for the second and later service loops: they listen on no port and serve the
    /// connections the first loop hands over (`adopt(descriptor:)`).
    public var listens = true
    /// Serve on libev (epoll: cost per wake-up independent of the number of sockets) instead of
    /// lws's own poll() loop; when the libev plugin cannot be loaded the server falls back to
    /// poll() by itself.
    public var useLibev: Bool

    /// Settings with the defaults above.
    public init(
        host: String, port: Int, tlsCertPath: String?, tlsKeyPath: String?, maxConnections: Int,
        useLibev: Bool
    ) {
        self.host = host
        self.port = port
        self.tlsCertPath = tlsCertPath
        self.tlsKeyPath = tlsKeyPath
        self.maxConnections = maxConnections
        self.useLibev = useLibev
    }
}

/// One service loop: owns its libwebsockets context (through `LWSContext`) and runs it on the
/// thread that calls `run()`. The context is created by `bind()` and destroyed by `run()` when
/// the loop stops; `wake()` and `stop()` may be called from any thread, everything else on the
/// service thread.
public final class LWSServer: LWSCallbackHandler, @unchecked Sendable {
    // Sound: the context is created before the service thread starts and only used by it, except
    // `lws_cancel_service` (`wake()`), which lws documents as callable from any thread and which
    // `destroying` keeps away from a context being destroyed; the flags are atomic or locked.
    /// Set once in `init` (it needs `self` as its handler), never changed.
    private var context: LWSContext!
    private let tickTimer = LWSTimer()
    /// One-shot timer for deadlines finer than the tick (`setAlarm(afterSeconds:)`).
    private let alarmTimer = LWSTimer()
    /// Timer that destroys the context from inside a libev loop (see `run()`).
    private let stopTimer = LWSTimer()
    private let settings: LWSServerSettings
    private let stopFlag = Atomic<Bool>(false)
    /// Set before the context starts being destroyed: from then on `wake()`, called by other
    /// threads (the Redis reader, sibling loops, workers), leaves the context alone. A wake in
    /// progress holds the lock, so destruction waits for it.
    private let destroying = Mutex<Bool>(false)
    /// Service thread only: the in-loop destroy was scheduled.
    private var stopScheduled = false
    /// Service thread only: answers to `CONNECT` requests waiting for their raw connection to
    /// become writable.
    private var tunnelRefusals: [WSI: [UInt8]] = [:]
    /// Receives the loop's events; set before `bind()` and kept by the server (so it must not hold
    /// the server itself).
    public var events: (any LWSServerEvents)?

    /// The WebSocket subprotocol name (SPEC §5).
    static let subprotocol = "bedrock.v1"

    /// A loop for `settings`; nothing is created before `bind()`.
    public init(settings: LWSServerSettings) {
        self.settings = settings
        var context = ContextSettings(
            listening: settings.listens ? .port(host: settings.host, port: settings.port) : .adoptedOnly,
            protocolName: LWSServer.subprotocol, rxBufferSize: 4096)
        context.maxHeadBytes = settings.maxHeadBytes
        context.logLevel = Int32(LLL_ERR)
        // lws indexes its descriptor table by descriptor number, and with several service loops
        // the numbers are shared by the whole process: size every loop's table for all of them
        // (the gateway raises the open-file limit to max_connections + 512).
        context.fdLimit = max(1024, settings.maxConnections + 1024)
        context.timeoutSeconds = 20
        context.options =
            UInt64(LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
            | UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
            // An address lws cannot bind fails the context instead of leaving it listening nowhere.
            | UInt64(LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND)
        if settings.listens, ListenProbe.isIPv4Literal(settings.host) {
            // lws 4.1 on an IPv6 socket copies an IPv4 address into the wrong field and binds
            // every interface ([::]); an IPv4 socket binds exactly the address given.
            context.options |= UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
        }
        if let cert = settings.tlsCertPath, let key = settings.tlsKeyPath { context.serverTLS = (cert, key) }
        context.useLibev = settings.useLibev
        context.fallBackToPoll = true
        self.context = LWSContext(context, handler: self)
    }

    /// Create the context and bind the port. Throws when it cannot, naming what is at fault
    /// (`TransportError.kind`): the address, the port, or anything else (TLS files).
    public func bind() throws {
        guard !context.create() else { return }
        if settings.listens, let problem = ListenProbe.problem(host: settings.host, port: settings.port) {
            throw problem
        }
        throw TransportError("cannot listen on \(settings.host):\(settings.port) (TLS files?)")
    }

    /// Run the service loop on the calling thread until `stop()`; destroys the context on exit.
    /// On libev, `lws_service` runs the libev loop until the context is destroyed from inside it
    /// (`stopTimer`); the second `lws_context_destroy` then frees what is left.
    public func run() {
        guard context.pointer != nil else { return }
        scheduleTick()
        context.service { !stopFlag.load(ordering: .acquiring) }
        destroying.withLock { $0 = true }
        context.destroy()
    }

    /// Serve a connection accepted by another loop (service thread): lws takes `descriptor` over.
    /// False when it could not (the caller closes the descriptor).
    public func adopt(descriptor: Int32) -> Bool {
        guard let pointer = context.pointer, !stopFlag.load(ordering: .acquiring) else { return false }
        return lws_adopt_socket(pointer, descriptor) != nil
    }

    /// Ask the loop to wake up and call `wokenUp()` (from any thread). The context pointer is
    /// read only under `destroying` (`cancelService` checks it): `run()` clears it when it
    /// destroys the context.
    public func wake() {
        destroying.withLock { destroying in
            if !destroying { context.cancelService() }
        }
    }

    /// Make `run()` return after the current iteration (from any thread). The loop sees the
    /// flag in its wake-up callback; on libev it then destroys the context from a timer, never
    /// from inside a connection's callback.
    public func stop() {
        guard !stopFlag.load(ordering: .acquiring) else { return }
        stopFlag.store(true, ordering: .releasing)
        wake()
    }

    /// Service thread, on a wake-up: the libev loop's way out once `stop()` was called.
    private func stopIfAsked() {
        guard context.onLibev, stopFlag.load(ordering: .acquiring), !stopScheduled,
            let pointer = context.pointer
        else { return }
        stopScheduled = true
        stopTimer.arm(on: pointer, owner: self, afterMicros: 1, lwsStopFired)
    }

    fileprivate func scheduleTick() {
        guard let pointer = context.pointer else { return }
        tickTimer.arm(on: pointer, owner: self, afterMicros: Int64(settings.tickInterval * 1_000_000), lwsTickFired)
    }

    /// Call `alarm()` once, `seconds` from now (at least a microsecond); arming again replaces
    /// the time set before. Service thread only.
    public func setAlarm(afterSeconds seconds: Double) {
        guard let pointer = context.pointer, ticking else { return }
        alarmTimer.arm(on: pointer, owner: self, afterMicros: max(1, Int64(seconds * 1_000_000)), lwsAlarmFired)
    }

    /// The in-loop first stage of destroying a libev context (the stop timer fired).
    fileprivate func destroyFromLoop() {
        guard let pointer = context.pointer else { return }
        tickTimer.cancel(on: pointer)
        alarmTimer.cancel(on: pointer)
        destroying.withLock { $0 = true }
        context.destroyFromLoop()
    }

    /// False once a libev loop is on its way out (no more ticks).
    fileprivate var ticking: Bool { !(context.onLibev && stopScheduled) }

    func handle(_ raw: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        guard let events else { return 0 }
        let wsi = WSI(raw: raw)
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
            return wsi.completeHTTPTransaction()
        case LWS_CALLBACK_CLOSED_HTTP:
            events.httpClosed(wsi)
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            return events.confirmUpgrade(wsi)
        case LWS_CALLBACK_ESTABLISHED:
            events.established(wsi)
        case LWS_CALLBACK_RECEIVE:
            let final = lws_is_final_fragment(raw) != 0 && lws_remaining_packet_payload(raw) == 0
            return events.receive(
                wsi, bytes: UnsafeRawBufferPointer(start: input, count: length),
                isFinal: final, isBinary: lws_frame_is_binary(raw) != 0)
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return events.writable(wsi)
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            var code = 1005
            var why = ""
            if let input, length >= 2 {
                let bytes = UnsafeRawBufferPointer(start: input, count: length)
                code = Int(bytes[0]) << 8 | Int(bytes[1])
                why = String(decoding: bytes.dropFirst(2), as: UTF8.self)
            }
            events.peerClosing(wsi, code: code, reason: why)
        case LWS_CALLBACK_CLOSED:
            events.closed(wsi)
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            let descriptor = Int32(truncatingIfNeeded: Int(bitPattern: input))
            return events.accepted(descriptor: descriptor) ? 0 : 1
        case LWS_CALLBACK_RAW_ADOPT:
            // Only a `CONNECT` request becomes a raw socket here (lws's HTTP fallback).
            tunnelRefusals[wsi] = events.tunnelRefusal()
            wsi.requestWritable()
        case LWS_CALLBACK_RAW_WRITEABLE:
            guard let response = tunnelRefusals.removeValue(forKey: wsi) else { return -1 }
            _ = wsi.writeRaw(response)
            return -1
        case LWS_CALLBACK_RAW_CLOSE:
            tunnelRefusals[wsi] = nil
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            events.wokenUp()
            stopIfAsked()
        default:
            break
        }
        return 0
    }
}

/// The tick timer fired (service thread): tick, then re-arm.
private func lwsTickFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul else { return }
    let server = LWSTimer.owner(of: sul, as: LWSServer.self)
    guard server.ticking else { return }
    server.events?.tick()
    server.scheduleTick()
}

/// The alarm timer fired (service thread).
private func lwsAlarmFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul else { return }
    let server = LWSTimer.owner(of: sul, as: LWSServer.self)
    guard server.ticking else { return }
    server.events?.alarm()
}

/// The stop timer fired (service thread, libev): destroy the context from inside the loop.
private func lwsStopFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul else { return }
    LWSTimer.owner(of: sul, as: LWSServer.self).destroyFromLoop()
}
