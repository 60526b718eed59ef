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
}

/// Settings the lws context is created with.
struct LWSServerSettings: Sendable {
    var host: String
    var port: Int
    var tlsCertPath: String?
    var tlsKeyPath: String?
    var maxConnections: Int
    var tickInterval: Double = 0.25
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
    private let settings: LWSServerSettings
    private let stopFlag = ManagedAtomicFlag()
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
    }

    deinit {
        free(protocolName); free(hostName)
        certPath.map { free($0) }; keyPath.map { free($0) }
        protocols.deallocate()
        tickTimer.deallocate()
    }

    /// Create the context and bind the port. Throws with lws's complaint when it cannot.
    func bind() throws {
        lws_set_log_level(Int32(LLL_ERR), nil)
        var info = lws_context_creation_info()
        info.port = Int32(settings.port)
        info.iface = UnsafePointer(hostName)
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.fd_limit_per_thread = UInt32(max(1024, settings.maxConnections + 256))
        info.timeout_secs = 20
        var options = UInt64(LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
        options |= UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
        if settings.tlsCertPath != nil {
            options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            info.ssl_cert_filepath = UnsafePointer(certPath)
            info.ssl_private_key_filepath = UnsafePointer(keyPath)
        }
        info.options = options
        guard let created = lws_create_context(&info) else {
            throw GatewayStartError("cannot listen on \(settings.host):\(settings.port) (port in use, bad address or TLS files?)")
        }
        context = created
    }

    /// Run the service loop on the calling thread until `stop()`; destroys the context on exit.
    func run() {
        guard let context else { return }
        scheduleTick()
        while !stopFlag.isSet {
            if lws_service(context, 0) < 0 { break }
        }
        lws_context_destroy(context)
        self.context = nil
    }

    /// Ask the loop to wake up and call `wokenUp()` (from any thread).
    func wake() {
        if let context { lws_cancel_service(context) }
    }

    /// Make `run()` return after the current iteration (from any thread).
    func stop() {
        stopFlag.set()
        wake()
    }

    private func scheduleTick() {
        guard let context else { return }
        let sulSize = MemoryLayout<lws_sorted_usec_list_t>.stride
        tickTimer.advanced(by: sulSize).storeBytes(of: Unmanaged.passUnretained(self).toOpaque(), as: UnsafeMutableRawPointer.self)
        let sul = tickTimer.assumingMemoryBound(to: lws_sorted_usec_list_t.self)
        lws_sul_schedule(context, 0, sul, { sulPointer in
            guard let sulPointer else { return }
            let size = MemoryLayout<lws_sorted_usec_list_t>.stride
            let owner = UnsafeMutableRawPointer(sulPointer).advanced(by: size).load(as: UnsafeMutableRawPointer.self)
            let server = Unmanaged<LWSServer>.fromOpaque(owner).takeUnretainedValue()
            server.events?.tick()
            server.scheduleTick()
        }, lws_usec_t(settings.tickInterval * 1_000_000))
    }

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
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            events.wokenUp()
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
    guard let wsi, let context = lws_get_context(wsi), let user = lws_context_user(context) else {
        return 0
    }
    let server = Unmanaged<LWSServer>.fromOpaque(user).takeUnretainedValue()
    return server.dispatch(WSI(raw: wsi), reason, input, length)
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
    func set() { lock.lock(); value = true; lock.unlock() }
}
