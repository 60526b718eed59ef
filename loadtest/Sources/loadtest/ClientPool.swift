import Foundation
import Transport

/// Thousands of WebSocket client connections on ONE libwebsockets context (Transport's
/// `ClientPoolLoop`), serviced by the thread that calls `run`. Connection state is a flat array
/// indexed by the connection number the loop hands back with every callback, so a connection
/// costs ~100 bytes of Swift state plus lws's own wsi and receive buffer.
final class ClientPool: ClientConnections, ClientPoolDelegate, @unchecked Sendable {
    // Sound: all state is touched only on the thread inside `run()`; no other thread sees `self`.
    let options: Options
    private let loop: ClientPoolLoop
    /// Headroom + the largest payload; one frame is written from it per writable callback.
    private let writeBuffer: UnsafeMutableRawPointer
    private var tokens: [String]
    /// Per-connection state, index = connection number.
    var conns: ContiguousArray<ConnState>
    let stats: PoolStats
    let scanner: FrameScanner
    let messages: ClientMessages
    private var driver: ((ClientPool) -> Bool)?
    /// Set when the scenario is over: closes from here on are expected.
    private(set) var finishing = false
    /// Send `subscribe` as soon as a connection is welcomed.
    var autoSubscribe = false
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
        var settings = ClientPoolSettings(host: options.host, port: options.port, connections: options.connections)
        settings.rxBufferSize = options.rxBuffer
        settings.timeoutSeconds = Int(max(5, min(options.phaseTimeout, 60)))
        settings.useLibev = options.eventLib == "ev"
        settings.tickMicros = 5_000
        loop = ClientPoolLoop(settings: settings)
        writeBuffer = .allocate(byteCount: WSI.headroom + messages.largest, alignment: 16)
    }

    deinit { writeBuffer.deallocate() }

    /// Create the context and service it, calling `driver` every 5 ms until it returns false.
    /// Then every connection is dropped and the context destroyed. Returns false if lws failed.
    func run(_ driver: @escaping (ClientPool) -> Bool) -> Bool {
        self.driver = driver
        return loop.run(self)
    }

    /// Start connection `index` (loop thread). Returns false if lws refused at once.
    @discardableResult
    func connect(_ index: Int) -> Bool {
        guard loop.isServing else { return false }
        conns[index].phase = .connecting
        stats.started += 1
        let path = tokens.isEmpty ? options.path : "\(options.path)?token=\(tokens[index % tokens.count])"
        if !loop.connect(index, path: path) && conns[index].phase == .connecting {
            fail(index, "lws_client_connect_via_info refused")
            return false
        }
        return true
    }

    /// Stop servicing: the loop returns as soon as the current wait is cancelled.
    func stop() { loop.stop() }

    func want(_ index: Int, _ bit: UInt8) {
        conns[index].pending |= bit
        conns[index].wsi?.requestWritable()
    }

    private func fail(_ index: Int, _ why: String) {
        conns[index].wsi = nil
        ended(index, why)
    }

    // MARK: ClientPoolDelegate

    func tick() -> Bool { driver?(self) ?? false }

    func closingAll() { finishing = true }

    func established(_ index: Int, _ connection: WSI) {
        conns[index].wsi = connection
        conns[index].phase = .open
        if conns[index].pending != 0 { connection.requestWritable() }
    }

    func receive(_ index: Int, _ bytes: UnsafeRawBufferPointer, isFinal: Bool) {
        receive(index, bytes, final: isFinal)
    }

    /// One frame per writable callback: a pong first, then the subscribe, then a request.
    func writable(_ index: Int, _ connection: WSI) -> Bool {
        guard let length = nextPayload(index, into: writeBuffer.advanced(by: WSI.headroom)) else { return true }
        if !connection.writeText(writeBuffer, payloadLength: length) { return false }
        if conns[index].pending != 0 { connection.requestWritable() }
        return true
    }

    func peerClosing(_ index: Int, code: Int32) { conns[index].closeCode = code }

    func connectionError(_ index: Int, _ why: String) { fail(index, why) }

    func closed(_ index: Int) { fail(index, "closed before welcome (code \(conns[index].closeCode))") }
}
