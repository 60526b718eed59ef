internal import CWebSockets
import Foundation
import Synchronization

/// A minimal libwebsockets WebSocket client for `bedrock watch`: one connection, one service
/// loop on the thread that calls `run`. Every lws pointer lives here (the context through
/// `LWSContext`); lws frees the connection, the context is destroyed when `run` returns.
public final class WebSocketClient: LWSCallbackHandler, @unchecked Sendable {
    // Sound: everything is used on the thread that calls `run()`, except `stop()`, which only
    // sets an atomic flag and uses `lws_cancel_service` (documented thread-safe).

    /// What happened on the connection, delivered on the loop thread.
    public enum Event {
        /// The handshake completed.
        case opened
        /// A complete text message.
        case message(String)
        /// The connection closed (`code` 1006 when the server sent no close frame).
        case closed(code: Int, reason: String)
        /// The connection could not be made, or broke before its handshake completed.
        case failed(String)
    }

    /// A `ws://` or `wss://` URL split for lws.
    public struct Endpoint: Sendable {
        /// `wss://`.
        public var secure: Bool
        /// Host name or address.
        public var host: String
        /// Port (default 80, or 443 for `wss://`).
        public var port: Int
        /// Path with the query, `/` when the URL has none.
        public var path: String

        /// Parses `ws[s]://host[:port][/path[?query]]`; nil when it is not such a URL.
        public init?(_ url: String) {
            let secure: Bool
            var rest: Substring
            if url.hasPrefix("ws://") {
                secure = false; rest = url.dropFirst(5)
            } else if url.hasPrefix("wss://") {
                secure = true; rest = url.dropFirst(6)
            } else {
                return nil
            }
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = rest[..<slash]
            path = slash == rest.endIndex ? "/" : String(rest[slash...])
            rest = authority
            var port = secure ? 443 : 80
            if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
                guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else { return nil }
                port = p
                rest = authority[..<colon]
            }
            guard !rest.isEmpty else { return nil }
            self.secure = secure
            host = String(rest)
            self.port = port
        }
    }

    private let endpoint: Endpoint
    private let insecure: Bool
    /// Set once in `init` (it needs `self` as its handler), never changed.
    private var context: LWSContext!
    private var wsi: OpaquePointer?
    private var outbox: [[UInt8]] = []
    private var partial: [UInt8] = []
    private var handler: ((Event) -> Void)?
    private var finished = false
    private var closeCode = 1006
    private var closeReason = ""
    private let stopFlag = Atomic<Bool>(false)

    /// A client for `endpoint`; `insecure` accepts self-signed certificates (tests only).
    public init(endpoint: Endpoint, subprotocol: String = "bedrock.v1", insecure: Bool = false) {
        self.endpoint = endpoint
        self.insecure = insecure
        var settings = ContextSettings(listening: .client, protocolName: subprotocol, rxBufferSize: 65536)
        settings.clientTLS = endpoint.secure
        context = LWSContext(settings, handler: self)
    }

    /// Queue a text message (loop thread, e.g. from the event handler).
    public func send(_ text: String) {
        outbox.append(Array(text.utf8))
        if let wsi { lws_callback_on_writable(wsi) }
    }

    /// Ask `run()` to return (any thread).
    public func stop() {
        stopFlag.store(true, ordering: .releasing)
        context.cancelService()
    }

    /// Connect and serve until the connection ends or `stop()`; events go to `handler`.
    public func run(_ handler: @escaping (Event) -> Void) {
        self.handler = handler
        guard context.create(), let pointer = context.pointer else {
            handler(.failed("cannot create a libwebsockets context"))
            return
        }
        defer { context.destroy() }
        var connect = lws_client_connect_info()
        connect.context = pointer
        connect.port = Int32(endpoint.port)
        connect.ietf_version_or_minus_one = -1
        connect.pwsi = withUnsafeMutablePointer(to: &wsi) { $0 }
        if endpoint.secure {
            var flags = Int32(LCCSCF_USE_SSL.rawValue)
            if insecure { flags |= Int32(LCCSCF_ALLOW_SELFSIGNED.rawValue | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue) }
            connect.ssl_connection = flags
        }
        let started: Bool = endpoint.host.withCString { host in
            endpoint.path.withCString { path in
                connect.address = host
                connect.host = host
                connect.origin = host
                connect.path = path
                connect.protocol = UnsafePointer(context.protocolName)
                return lws_client_connect_via_info(&connect) != nil
            }
        }
        guard started else {
            handler(.failed("cannot start connecting to \(endpoint.host):\(endpoint.port)"))
            return
        }
        context.service { !finished && !stopFlag.load(ordering: .acquiring) }
    }

    func handle(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            self.wsi = wsi
            handler?(.opened)
            if !outbox.isEmpty { lws_callback_on_writable(wsi) }
        case LWS_CALLBACK_CLIENT_RECEIVE:
            if let input { partial.append(contentsOf: UnsafeRawBufferPointer(start: input, count: length)) }
            if lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0 {
                let text = String(decoding: partial, as: UTF8.self)
                partial = []
                handler?(.message(text))
            }
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            guard !outbox.isEmpty else { return 0 }
            let message = outbox.removeFirst()
            var buffer = [UInt8](repeating: 0, count: WSI.headroom + message.count)
            buffer.replaceSubrange(WSI.headroom..., with: message)
            let ok = buffer.withUnsafeMutableBufferPointer {
                lws_write(wsi, $0.baseAddress! + WSI.headroom, message.count, LWS_WRITE_TEXT) >= Int32(message.count)
            }
            if !ok { return -1 }
            if !outbox.isEmpty { lws_callback_on_writable(wsi) }
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let input, length >= 2 {
                let bytes = UnsafeRawBufferPointer(start: input, count: length)
                closeCode = Int(bytes[0]) << 8 | Int(bytes[1])
                closeReason = String(decoding: bytes.dropFirst(2), as: UTF8.self)
            }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            let why = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "unknown error"
            finished = true
            self.wsi = nil
            handler?(.failed(why))
        case LWS_CALLBACK_CLIENT_CLOSED:
            finished = true
            self.wsi = nil
            handler?(.closed(code: closeCode, reason: closeReason))
        default:
            break
        }
        return 0
    }
}
