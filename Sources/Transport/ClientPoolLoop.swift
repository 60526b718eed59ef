internal import CWebSockets
import Foundation

/// What a `ClientPoolLoop` reports, each call on the loop's thread (inside `run`). Connections
/// are known by the index given to `connect`; the `WSI` handles passed are valid until that
/// connection's `connectionError` or `closed`.
public protocol ClientPoolDelegate: AnyObject {
    /// Connection `index` completed its WebSocket handshake.
    func established(_ index: Int, _ connection: WSI)
    /// A piece of a text frame (valid only during the call); `isFinal` on the frame's last piece.
    func receive(_ index: Int, _ bytes: UnsafeRawBufferPointer, isFinal: Bool)
    /// Connection `index` can take one write (`connection.writeText`); false drops it.
    func writable(_ index: Int, _ connection: WSI) -> Bool
    /// The server sent a close frame with `code`.
    func peerClosing(_ index: Int, code: Int32)
    /// Connection `index` could not be made (or broke before its handshake completed).
    func connectionError(_ index: Int, _ why: String)
    /// Connection `index` closed.
    func closed(_ index: Int)
    /// Every `ClientPoolSettings.tickMicros`; false ends the run (`stop()`).
    func tick() -> Bool
    /// Every connection still open is about to be closed by the loop's end; their `closed`
    /// calls follow.
    func closingAll()
}

/// Settings of a client pool's context and connections.
public struct ClientPoolSettings: Sendable {
    /// The server's host name or address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// The WebSocket subprotocol asked for.
    public var subprotocol = "bedrock.v1"
    /// Connections the pool will hold at most (indexes 0..<connections).
    public var connections: Int
    /// Bytes lws reads per receive callback.
    public var rxBufferSize = 4096
    /// Seconds lws allows for a connect and handshake.
    public var timeoutSeconds = 20
    /// libev (epoll) instead of poll(): poll() costs O(connections) per wake-up, which made the
    /// client, not the gateway, the bottleneck with 1,000+ sockets.
    public var useLibev = true
    /// µs between `tick()` calls.
    public var tickMicros = 5_000

    /// Settings with the defaults above.
    public init(host: String, port: Int, connections: Int) {
        self.host = host
        self.port = port
        self.connections = connections
    }
}

/// Many WebSocket client connections on ONE libwebsockets context, serviced by the thread that
/// calls `run`, for the load generator. Every lws pointer lives here; each connection carries its
/// index (+ 1) as lws opaque user data, so a callback reaches the delegate's state for it with no
/// lookup. Connections use a retry/idle policy of all zeros: lws never sends its own "validity"
/// PINGs (by default after 300 s without a PONG, hanging up 10 s later), as a browser does not
/// either; lws still answers the server's PINGs.
public final class ClientPoolLoop: LWSCallbackHandler {
    private let settings: ClientPoolSettings
    /// Set once in `init` (it needs `self` as its handler), never changed.
    private var context: LWSContext!
    private let hostName: UnsafeMutablePointer<CChar>
    private let timer = LWSTimer()
    /// Alive as long as the pool: lws reads it for the life of every connection.
    private let idlePolicy: UnsafeMutablePointer<lws_retry_bo_t>
    /// Set for the duration of `run`, which its caller (the delegate itself) outlives.
    private unowned(unsafe) var delegate: (any ClientPoolDelegate)?
    private var running = false

    /// A pool for `settings`; nothing is created before `run`.
    public init(settings: ClientPoolSettings) {
        self.settings = settings
        hostName = strdup(settings.host)
        idlePolicy = .allocate(capacity: 1)
        idlePolicy.initialize(to: lws_retry_bo_t())
        var context = ContextSettings(
            listening: .client, protocolName: settings.subprotocol,
            rxBufferSize: settings.rxBufferSize)
        context.fdLimit = settings.connections + 64
        context.timeoutSeconds = settings.timeoutSeconds
        context.useLibev = settings.useLibev
        self.context = LWSContext(context, handler: self)
    }

    deinit {
        free(hostName)
        idlePolicy.deallocate()
    }

    /// Create the context and service it on the calling thread, calling `delegate.tick()` every
    /// `tickMicros` until it returns false (or `stop()`). Then every connection is dropped and
    /// the context destroyed. False when the context could not be created.
    public func run(_ delegate: any ClientPoolDelegate) -> Bool {
        guard context.create() else { return false }
        self.delegate = delegate
        running = true
        schedule()
        // With libev `lws_service` runs the libev loop until `stop()` destroys the context from
        // inside it.
        context.service { running }
        delegate.closingAll()
        context.destroy()
        self.delegate = nil
        return true
    }

    /// True while the context exists (inside `run`).
    public var isServing: Bool { context.pointer != nil }

    /// Start connection `index` to `path` (loop thread). False when lws refused at once; it may
    /// also have reported `connectionError` for it already.
    @discardableResult
    public func connect(_ index: Int, path: String) -> Bool {
        guard let pointer = context.pointer else { return false }
        var ci = lws_client_connect_info()
        ci.context = pointer
        ci.port = Int32(settings.port)
        ci.ietf_version_or_minus_one = -1
        ci.opaque_user_data = UnsafeMutableRawPointer(bitPattern: index + 1)
        ci.retry_and_idle_policy = UnsafePointer(idlePolicy)
        let wsi: OpaquePointer? = path.withCString { p in
            ci.address = UnsafePointer(hostName)
            ci.host = UnsafePointer(hostName)
            ci.origin = UnsafePointer(hostName)
            ci.path = p
            ci.protocol = UnsafePointer(context.protocolName)
            return lws_client_connect_via_info(&ci)
        }
        return wsi != nil
    }

    /// End the run (loop thread): on libev the context is destroyed at once, from inside the
    /// loop; on poll() the loop returns as soon as the current wait is cancelled.
    public func stop() {
        running = false
        guard context.pointer != nil else { return }
        if context.onLibev {
            delegate?.closingAll()
            context.destroyFromLoop()
        } else {
            context.cancelService()
        }
    }

    private func schedule() {
        guard let pointer = context.pointer else { return }
        timer.arm(on: pointer, owner: self, afterMicros: Int64(settings.tickMicros), poolTickFired)
    }

    fileprivate func ticked() {
        if let delegate, delegate.tick() { schedule() } else { stop() }
    }

    func handle(_ raw: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        guard let tag = lws_get_opaque_user_data(raw), let delegate else { return 0 }
        let index = Int(bitPattern: tag) - 1
        guard index >= 0, index < settings.connections else { return 0 }
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            delegate.established(index, WSI(raw: raw))
        case LWS_CALLBACK_CLIENT_RECEIVE:
            guard let input else { return 0 }
            let final = lws_is_final_fragment(raw) != 0 && lws_remaining_packet_payload(raw) == 0
            delegate.receive(index, UnsafeRawBufferPointer(start: input, count: length), isFinal: final)
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            return delegate.writable(index, WSI(raw: raw)) ? 0 : -1
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let input, length >= 2 {
                let b = UnsafeRawBufferPointer(start: input, count: length)
                delegate.peerClosing(index, code: Int32(b[0]) << 8 | Int32(b[1]))
            }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            delegate.connectionError(
                index, input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection error")
        case LWS_CALLBACK_CLIENT_CLOSED:
            delegate.closed(index)
        default:
            break
        }
        return 0
    }
}

/// The tick timer fired (loop thread).
private func poolTickFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul else { return }
    LWSTimer.owner(of: sul, as: ClientPoolLoop.self).ticked()
}
