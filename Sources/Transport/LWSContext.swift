internal import CWebSockets
import Foundation

/// Receives every lws callback of one context, on the context's service thread.
protocol LWSCallbackHandler: AnyObject {
    /// lws convention: 0 to carry on, -1 to close the connection (and per-reason extras).
    func handle(
        _ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?,
        _ length: Int
    ) -> Int32
}

/// How a context is created; one value per kind of context (server loop, watch client, pool).
struct ContextSettings {
    /// What the context listens on.
    enum Listening {
        /// A server bound to `host:port`.
        case port(host: String, port: Int)
        /// A server with no listening socket: it serves connections handed to it (`lws_adopt_socket`).
        case adoptedOnly
        /// Client connections only.
        case client
    }

    var listening: Listening
    /// The one protocol of the table (the WebSocket subprotocol name).
    var protocolName: String
    var rxBufferSize: Int
    /// Bytes lws may hold of one request head (request line and headers); lws closes a
    /// connection whose head does not fit. nil: lws's default (4 KiB).
    var maxHeadBytes: Int?
    /// lws log level (process-wide in lws): `LLL_ERR` for the server, 0 for the clients.
    var logLevel: Int32 = 0
    /// Size of each service thread's descriptor table (lws indexes it by descriptor number).
    var fdLimit: Int?
    /// Seconds lws allows for handshakes and similar pending states.
    var timeoutSeconds: Int?
    /// lws server options besides the event library and TLS.
    var options: UInt64 = 0
    /// Server certificate and key files (PEM): TLS on the listening port.
    var serverTLS: (cert: String, key: String)?
    /// Initialise OpenSSL for `wss://` client connections.
    var clientTLS = false
    /// Serve on a libev loop of the context's own instead of lws's poll() loop.
    var useLibev = false
    /// When the libev context cannot be created: try poll() instead of failing.
    var fallBackToPoll = false
}

/// The one context builder: owns an lws context and everything lws reads from for its lifetime
/// (protocol table, name strings, TLS paths, the foreign libev loop), and routes every callback
/// to its handler through the context user pointer. Created, run and destroyed on the thread
/// that services it; `cancelService()` is the only call another thread may make.
final class LWSContext {
    /// The lws context; nil before `create()` and after `destroy()`.
    private(set) var pointer: OpaquePointer?
    /// True when the context runs on libev; set by `create()`.
    private(set) var onLibev = false
    let settings: ContextSettings
    /// Receives the callbacks. Unowned: the handler owns this context and outlives it.
    unowned(unsafe) let handler: any LWSCallbackHandler
    private let protocols: UnsafeMutablePointer<lws_protocols>
    /// The protocol's name, alive as long as the context (client connections ask for it as their
    /// subprotocol).
    let protocolName: UnsafeMutablePointer<CChar>
    private let hostName: UnsafeMutablePointer<CChar>?
    private let certPath: UnsafeMutablePointer<CChar>?
    private let keyPath: UnsafeMutablePointer<CChar>?
    /// This context's own libev loop (a "foreign" loop to lws); destroyed after the context.
    private var eventLoop: OpaquePointer?
    /// The one-element loop array lws reads `foreign_loops` from during `create()`.
    private let foreignLoops: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    init(_ settings: ContextSettings, handler: any LWSCallbackHandler) {
        self.settings = settings
        self.handler = handler
        protocolName = strdup(settings.protocolName)
        if case .port(let host, _) = settings.listening { hostName = strdup(host) } else { hostName = nil }
        certPath = settings.serverTLS.map { strdup($0.cert) }
        keyPath = settings.serverTLS.map { strdup($0.key) }
        protocols = .allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = lwsContextCallback
        protocols[0].per_session_data_size = 0
        protocols[0].rx_buffer_size = settings.rxBufferSize
        foreignLoops = .allocate(capacity: 1)
        foreignLoops.initialize(to: nil)
    }

    deinit {
        free(protocolName)
        hostName.map { free($0) }; certPath.map { free($0) }; keyPath.map { free($0) }
        protocols.deallocate()
        foreignLoops.deallocate()
    }

    /// Create the context (and bind its port); false when lws refused.
    func create() -> Bool {
        lws_set_log_level(settings.logLevel, nil)
        var info = lws_context_creation_info()
        switch settings.listening {
        case .port(_, let port):
            info.port = Int32(port)
            info.iface = UnsafePointer(hostName)
        case .adoptedOnly:
            info.port = CONTEXT_PORT_NO_LISTEN_SERVER
        case .client:
            info.port = CONTEXT_PORT_NO_LISTEN
        }
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        if let fdLimit = settings.fdLimit { info.fd_limit_per_thread = UInt32(fdLimit) }
        if let timeout = settings.timeoutSeconds { info.timeout_secs = UInt32(timeout) }
        if let head = settings.maxHeadBytes { info.max_http_header_data = UInt16(clamping: head) }
        var options = settings.options
        if settings.serverTLS != nil {
            options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            info.ssl_cert_filepath = UnsafePointer(certPath)
            info.ssl_private_key_filepath = UnsafePointer(keyPath)
        }
        if settings.clientTLS { options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT) }
        var created: OpaquePointer?
        if settings.useLibev {
            if let loop = ev_loop_new(0) {
                info.options = options | UInt64(LWS_SERVER_OPTION_LIBEV)
                foreignLoops.pointee = UnsafeMutableRawPointer(loop)
                info.foreign_loops = foreignLoops
                created = LWSContext.keepingSignalMask { lws_create_context(&info) }
                info.foreign_loops = nil
                if created == nil { ev_loop_destroy(loop) } else { eventLoop = loop }
                onLibev = created != nil
            }
            if created == nil && !settings.fallBackToPoll { return false }
        }
        if created == nil {
            info.options = options
            created = lws_create_context(&info)
        }
        pointer = created
        return created != nil
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

    /// Service the context on the calling thread while `keepGoing()` holds. On libev one call
    /// runs the libev loop until the context is destroyed from inside it (`destroyFromLoop`).
    func service(while keepGoing: () -> Bool) {
        guard let pointer else { return }
        while keepGoing() {
            if lws_service(pointer, 0) < 0 || onLibev { break }
        }
    }

    /// The in-loop first stage of destroying a libev context (from a callback or timer of this
    /// context): lws closes every connection and the libev loop returns; `destroy()` follows.
    func destroyFromLoop() {
        guard let pointer else { return }
        lws_context_destroy(pointer)
    }

    /// Destroy the context (or finish destroying it), then its libev loop. Service thread, after
    /// `service` returned.
    func destroy() {
        guard let pointer else { return }
        lws_context_destroy(pointer)
        self.pointer = nil
        if let eventLoop { ev_loop_destroy(eventLoop) }
        eventLoop = nil
    }

    /// Make the service thread's current wait return with `LWS_CALLBACK_EVENT_WAIT_CANCELLED`
    /// (lws documents this as callable from any thread).
    func cancelService() {
        guard let pointer else { return }
        lws_cancel_service(pointer)
    }
}

/// The C entry point of every context: finds the owning `LWSContext` through the context user
/// pointer and forwards to its handler. Non-capturing, as `@convention(c)` requires.
private func lwsContextCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?, _ length: Int
) -> Int32 {
    if reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS, let user {
        // Server TLS only. `user` is the vhost's SSL_CTX. With TLS 1.3 session tickets on, about
        // one wss handshake in a few hundred stalled: the upgrade request was never answered
        // (lws 4.1.6 with OpenSSL 3). Without tickets clients do a full handshake each time,
        // which long-lived WebSocket connections barely notice (tests/integration/test_lifecycle.py).
        bedrock_ssl_ctx_without_tickets(user)
        return 0
    }
    guard let wsi, let context = lws_get_context(wsi), let owner = lws_context_user(context) else {
        return 0
    }
    return Unmanaged<LWSContext>.fromOpaque(owner).takeUnretainedValue().handler.handle(wsi, reason, input, length)
}
