internal import CWebSockets
import Foundation
import Synchronization

/// What a `WebSocketClientLoop` reports, each call on the loop's thread (inside `run`).
/// Connections are known by the tag given to `connect`.
public protocol WebSocketClientLoopDelegate: AnyObject {
    /// The context exists: connect here (called once, first).
    func loopStarted()
    /// Connection `tag` completed its WebSocket handshake.
    func opened(_ tag: Int)
    /// A whole text (or binary) message of connection `tag`, at most `maxMessageBytes` long.
    func received(_ tag: Int, _ message: String)
    /// Connection `tag` received a pong frame.
    func ponged(_ tag: Int)
    /// Connection `tag` is gone: it closed, could not be made, or was dropped (`reason` says which).
    /// Called once per connection, never before its `connect` returned.
    func ended(_ tag: Int, reason: String)
    /// The time set with `wake(afterSeconds:)` came.
    func woke()
}

/// Many WebSocket client connections (`ws://` and `wss://`, any hosts) on ONE libwebsockets
/// context, serviced by the thread that calls `run`: the exchange kline streams. Every lws
/// pointer lives here. Each connection carries its tag (+ 1) as lws opaque user data.
///
/// - TLS: `wss://` connections verify the server's certificate against the system's CAs and its
///   host name (lws's client defaults); `allowSelfSigned` (tests only) turns both checks off.
/// - Bounded memory: a message longer than `maxMessageBytes` drops its connection; lws reads at
///   most `rxBufferSize` bytes per receive callback.
/// - lws answers the server's ping frames itself (with the ping's payload, as Binance requires);
///   connections use a retry/idle policy of zeros, so lws sends no pings of its own: the caller
///   decides when to `ping`.
/// - Thread use: everything on the `run` thread except `stop()`, which another thread may call.
public final class WebSocketClientLoop: LWSCallbackHandler, @unchecked Sendable {
    // Sound: all state is used on the thread inside `run()`; `stop()` touches only the atomic
    // flag and, under `serving`'s lock while the context exists, `lws_cancel_service`, which lws
    // documents as callable from any thread.

    /// Settings of the loop's context and connections.
    public struct Settings: Sendable {
        /// Longest message accepted; a longer one drops its connection.
        public var maxMessageBytes = 1 << 20
        /// Bytes lws reads per receive callback.
        public var rxBufferSize = 16_384
        /// Seconds lws allows for a connect, the TLS and the WebSocket handshake.
        public var handshakeTimeoutSeconds = 10
        /// Accept any certificate and host name on `wss://` (tests only).
        public var allowSelfSigned = false

        /// The defaults above.
        public init() {}
    }

    private final class Connection {
        let tag: Int
        var wsi: OpaquePointer?
        var outbox: [Outgoing] = []
        var message: [UInt8] = []
        var open = false
        var closing = false
        /// Why the loop itself is dropping it (over-long message), reported in `ended`.
        var dropReason: String?
        init(tag: Int) { self.tag = tag }
    }

    private enum Outgoing {
        case text([UInt8])
        case ping
        case close(UInt16)
    }

    private struct PendingConnect {
        let tag: Int
        /// nil when the URL was not a WebSocket URL (the connect ends at once).
        let endpoint: WebSocketClient.Endpoint?
    }

    private let settings: Settings
    /// Set once in `init` (it needs `self` as its handler), never changed.
    private var context: LWSContext!
    private let wakeTimer = LWSTimer()
    private let connectTimer = LWSTimer()
    /// Alive as long as the loop: lws reads it for the life of every connection.
    private let idlePolicy: UnsafeMutablePointer<lws_retry_bo_t>
    /// Set for the duration of `run`, which its caller outlives.
    private unowned(unsafe) var delegate: (any WebSocketClientLoopDelegate)?
    private var connections: [Int: Connection] = [:]
    private var pendingConnects: [PendingConnect] = []
    private let stopFlag = Atomic<Bool>(false)
    /// True while the context exists: `stop()` (another thread) wakes it only then, under the
    /// lock, so it never touches a context being created or destroyed.
    private let serving = Mutex(false)

    /// A loop with `settings`; nothing is created before `run`.
    public init(settings: Settings = Settings()) {
        self.settings = settings
        idlePolicy = .allocate(capacity: 1)
        idlePolicy.initialize(to: lws_retry_bo_t())
        var context = ContextSettings(listening: .client, protocolName: "", rxBufferSize: settings.rxBufferSize)
        context.timeoutSeconds = settings.handshakeTimeoutSeconds
        context.clientTLS = true
        self.context = LWSContext(context, handler: self)
    }

    deinit { idlePolicy.deallocate() }

    /// Create the context and service it on the calling thread until `stop()`; then every
    /// connection is dropped (no further delegate calls) and the context destroyed. False when
    /// the context could not be created.
    public func run(_ delegate: any WebSocketClientLoopDelegate) -> Bool {
        guard context.create() else { return false }
        serving.withLock { $0 = true }
        self.delegate = delegate
        delegate.loopStarted()
        context.service { !stopFlag.load(ordering: .acquiring) }
        self.delegate = nil
        serving.withLock { $0 = false }
        context.destroy()
        connections = [:]
        pendingConnects = []
        return true
    }

    /// End `run` promptly (any thread).
    public func stop() {
        stopFlag.store(true, ordering: .releasing)
        serving.withLock { if $0 { context.cancelService() } }
    }

    /// Start connection `tag` (unique among live ones) to `url` (loop thread). The connect
    /// itself happens just after the current callback returns, so `ended` for it (a refused
    /// connection, a bad URL) never arrives inside this call.
    public func connect(_ tag: Int, url: String) {
        let connection = Connection(tag: tag)
        let endpoint = WebSocketClient.Endpoint(url)
        if endpoint == nil { connection.dropReason = "not a ws:// or wss:// URL: \(url.prefix(200))" }
        connections[tag] = connection
        pendingConnects.append(PendingConnect(tag: tag, endpoint: endpoint))
        armConnectTimer()
    }

    /// Queue text `message` on connection `tag` (loop thread; dropped when it is not open).
    public func send(_ tag: Int, _ message: String) { enqueue(tag, .text(Array(message.utf8))) }

    /// Queue a ping frame (empty payload) on connection `tag` (loop thread).
    public func ping(_ tag: Int) { enqueue(tag, .ping) }

    /// Close connection `tag` with a close frame (`code`), or drop it at once when it is not
    /// open yet; `ended` follows (loop thread).
    public func close(_ tag: Int, code: UInt16 = 1000) {
        guard let c = connections[tag], !c.closing else { return }
        if c.open {
            enqueue(tag, .close(code))
            if let wsi = c.wsi { lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, 2) }
        } else {
            drop(tag, reason: "closed before it opened")
        }
    }

    /// Drop connection `tag` now, without a close frame (a silent peer); `ended` follows with
    /// `reason` (loop thread).
    public func drop(_ tag: Int, reason: String) {
        guard let c = connections[tag] else { return }
        c.closing = true
        c.dropReason = c.dropReason ?? reason
        if let wsi = c.wsi {
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC)
        }
    }

    /// Call `woke()` once, `seconds` from now (replacing any earlier wake-up; loop thread).
    public func wake(afterSeconds seconds: Double) {
        guard let pointer = context.pointer else { return }
        let micros = Int64((max(0, seconds) * 1_000_000).rounded(.up))
        wakeTimer.arm(on: pointer, owner: self, afterMicros: max(1, micros), clientLoopWakeFired)
    }

    private func enqueue(_ tag: Int, _ item: Outgoing) {
        guard let c = connections[tag], c.open, !c.closing, let wsi = c.wsi else { return }
        c.outbox.append(item)
        lws_callback_on_writable(wsi)
    }

    private func armConnectTimer() {
        guard let pointer = context.pointer else { return }
        connectTimer.arm(on: pointer, owner: self, afterMicros: 1, clientLoopConnectFired)
    }

    fileprivate func wakeFired() { delegate?.woke() }

    /// Start every queued connect (loop thread, from the connect timer).
    fileprivate func startPendingConnects() {
        let pending = pendingConnects
        pendingConnects = []
        for p in pending {
            guard let c = connections[p.tag] else { continue }
            guard c.dropReason == nil, let endpoint = p.endpoint else {
                end(p.tag, reason: c.dropReason ?? "closed before it opened")
                continue
            }
            if !start(p.tag, endpoint) && connections[p.tag] != nil && connections[p.tag]?.wsi == nil {
                end(p.tag, reason: "cannot start connecting to \(endpoint.host):\(endpoint.port)")
            }
        }
    }

    private func start(_ tag: Int, _ endpoint: WebSocketClient.Endpoint) -> Bool {
        guard let pointer = context.pointer else { return false }
        var ci = lws_client_connect_info()
        ci.context = pointer
        ci.port = Int32(endpoint.port)
        ci.ietf_version_or_minus_one = -1
        ci.opaque_user_data = UnsafeMutableRawPointer(bitPattern: tag + 1)
        ci.retry_and_idle_policy = UnsafePointer(idlePolicy)
        if endpoint.secure {
            var flags = Int32(LCCSCF_USE_SSL.rawValue)
            if settings.allowSelfSigned {
                flags |= Int32(LCCSCF_ALLOW_SELFSIGNED.rawValue | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue)
            }
            ci.ssl_connection = flags
        }
        let wsi: OpaquePointer? = endpoint.host.withCString { host in
            endpoint.path.withCString { path in
                ci.address = host
                ci.host = host
                ci.origin = host
                ci.path = path
                return lws_client_connect_via_info(&ci)
            }
        }
        if let wsi, let c = connections[tag], c.wsi == nil { c.wsi = wsi }
        return wsi != nil
    }

    private func end(_ tag: Int, reason: String) {
        guard let c = connections.removeValue(forKey: tag) else { return }
        delegate?.ended(tag, reason: c.dropReason ?? reason)
    }

    func handle(_ raw: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        guard let opaque = lws_get_opaque_user_data(raw), delegate != nil else { return 0 }
        let tag = Int(bitPattern: opaque) - 1
        guard let c = connections[tag] else { return 0 }
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            c.wsi = raw
            c.open = true
            if c.closing {
                return -1
            }
            delegate?.opened(tag)
        case LWS_CALLBACK_CLIENT_RECEIVE:
            return receive(c, raw, input, length)
        case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
            delegate?.ponged(tag)
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            return writable(c, raw)
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let input, length >= 2, c.dropReason == nil {
                let bytes = UnsafeRawBufferPointer(start: input, count: length)
                let code = Int(bytes[0]) << 8 | Int(bytes[1])
                let text = String(decoding: bytes.dropFirst(2).prefix(120), as: UTF8.self)
                c.dropReason = "closed by the server (\(code)\(text.isEmpty ? "" : " \(text)"))"
            }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            c.wsi = nil
            let why = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection error"
            end(tag, reason: c.open ? why : "cannot connect: \(why)")
        case LWS_CALLBACK_CLIENT_CLOSED:
            c.wsi = nil
            end(tag, reason: c.closing ? "closed" : "connection lost")
        case LWS_CALLBACK_WSI_DESTROY:
            // A connection lws freed with neither of the above (killed while its handshake was
            // still pending): it ends here.
            c.wsi = nil
            end(tag, reason: c.closing ? "closed" : "connection lost")
        default:
            break
        }
        return 0
    }

    private func receive(_ c: Connection, _ raw: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        if c.message.count + length > settings.maxMessageBytes {
            c.message = []
            c.closing = true
            c.dropReason = "a message longer than \(settings.maxMessageBytes) bytes"
            return -1
        }
        if let input { c.message.append(contentsOf: UnsafeRawBufferPointer(start: input, count: length)) }
        guard lws_is_final_fragment(raw) != 0 && lws_remaining_packet_payload(raw) == 0 else { return 0 }
        let text = String(decoding: c.message, as: UTF8.self)
        c.message.removeAll(keepingCapacity: c.message.capacity <= 65_536)
        delegate?.received(c.tag, text)
        return 0
    }

    private func writable(_ c: Connection, _ raw: OpaquePointer) -> Int32 {
        guard !c.outbox.isEmpty else { return 0 }
        let item = c.outbox.removeFirst()
        switch item {
        case .close(let code):
            c.closing = true
            WSI(raw: raw).setCloseReason(code, "")
            return -1
        case .ping:
            var buffer = [UInt8](repeating: 0, count: WSI.headroom)
            let ok = buffer.withUnsafeMutableBufferPointer {
                lws_write(raw, $0.baseAddress! + WSI.headroom, 0, LWS_WRITE_PING) >= 0
            }
            if !ok { return -1 }
        case .text(let bytes):
            var buffer = [UInt8](repeating: 0, count: WSI.headroom + bytes.count)
            buffer.replaceSubrange(WSI.headroom..., with: bytes)
            let ok = buffer.withUnsafeMutableBytes {
                WSI(raw: raw).writeText($0.baseAddress!, payloadLength: bytes.count)
            }
            if !ok { return -1 }
        }
        if !c.outbox.isEmpty { lws_callback_on_writable(raw) }
        return 0
    }
}

/// The wake-up timer fired (loop thread).
private func clientLoopWakeFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul else { return }
    LWSTimer.owner(of: sul, as: WebSocketClientLoop.self).wakeFired()
}

/// The deferred-connect timer fired (loop thread).
private func clientLoopConnectFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul else { return }
    LWSTimer.owner(of: sul, as: WebSocketClientLoop.self).startPendingConnects()
}
