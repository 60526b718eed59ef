import CEpoll
import Foundation

/// WebSocket client connections on plain non-blocking sockets and one epoll set, serviced by the
/// thread that calls `run` (`--client raw`). It does what the gateway's clients need and no more:
/// the HTTP upgrade with the token in the query, unmasked server frames (text, continuation,
/// ping, close), masked client frames. Per frame it costs one parse of a small header instead of
/// libwebsockets' byte-by-byte client parser, so the load generator stays the lighter side of
/// the measurement on a machine it shares with the gateway.
final class RawClientPool: ClientConnections {
    let options: Options
    var conns: ContiguousArray<ConnState>
    let stats = PoolStats()
    let scanner: FrameScanner
    let messages: ClientMessages
    var requests: RequestTracker?
    var autoSubscribe = false
    private(set) var finishing = false
    private let tokens: [String]
    /// Socket of each connection, -1 when it has none.
    private var sockets: ContiguousArray<Int32>
    /// Bytes of each connection not yet parsed: a partial HTTP response or a partial frame.
    private var partial: [Int: [UInt8]] = [:]
    /// Bytes of each connection the socket did not take yet (rare: client frames are tiny).
    private var unsent: [Int: [UInt8]] = [:]
    /// Connections whose upgrade request is written and whose 101 has not arrived.
    private var upgrading = Set<Int>()
    private let epoll: Int32
    private let readBuffer: UnsafeMutableRawPointer
    private let readBufferSize = 256 * 1024
    private let frameBuffer: UnsafeMutableRawPointer
    private var running = false
    private var address = sockaddr_in()
    private let mask: (UInt8, UInt8, UInt8, UInt8)

    /// A pool for `options.connections` connections using `tokens` round-robin.
    init(options: Options, tokens: [String]) {
        self.options = options
        self.tokens = tokens
        conns = ContiguousArray(repeating: ConnState(), count: options.connections)
        sockets = ContiguousArray(repeating: -1, count: options.connections)
        scanner = FrameScanner(topic: options.topic)
        messages = ClientMessages(options)
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        readBuffer = .allocate(byteCount: readBufferSize, alignment: 16)
        frameBuffer = .allocate(byteCount: 14 + messages.largest, alignment: 16)
        let key = UInt32.random(in: 1...UInt32.max)
        mask = (UInt8(key >> 24), UInt8(key >> 16 & 0xff), UInt8(key >> 8 & 0xff), UInt8(key & 0xff))
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(options.port).bigEndian)
        inet_pton(AF_INET, options.host == "localhost" ? "127.0.0.1" : options.host, &address.sin_addr)
    }

    deinit {
        readBuffer.deallocate()
        frameBuffer.deallocate()
        close(epoll)
    }

    /// Service the sockets, calling `driver` every 5 ms until it returns false or `stop()` is
    /// called; then every socket is closed. False when no epoll set could be made.
    func run(_ driver: @escaping (RawClientPool) -> Bool) -> Bool {
        guard epoll >= 0, options.host != "::1" else { return false }
        running = true
        var events = [epoll_event](repeating: epoll_event(), count: 512)
        var nextTick = ClockNs.monotonic() + 5_000_000
        while running {
            let now = ClockNs.monotonic()
            let wait = now >= nextTick ? 0 : Int32((nextTick - now) / 1_000_000)
            let ready = epoll_wait(epoll, &events, Int32(events.count), wait)
            if ready > 0 {
                for k in 0..<Int(ready) { service(Int(events[k].data.u64), events[k].events) }
            }
            if ClockNs.monotonic() >= nextTick {
                if !driver(self) { stop() }
                nextTick = ClockNs.monotonic() + 5_000_000
            }
        }
        finishing = true
        for index in sockets.indices where sockets[index] >= 0 { close(sockets[index]); sockets[index] = -1 }
        return true
    }

    func stop() {
        finishing = true
        running = false
    }

    @discardableResult
    func connect(_ index: Int) -> Bool {
        conns[index].phase = .connecting
        stats.started += 1
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { ended(index, "socket(): \(String(cString: strerror(errno)))"); return false }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 || errno == EINPROGRESS else {
            let why = String(cString: strerror(errno))
            close(fd)
            ended(index, "connect(): \(why)")
            return false
        }
        sockets[index] = fd
        watch(index, writable: true, add: true)
        return true
    }

    func want(_ index: Int, _ bit: UInt8) {
        conns[index].pending |= bit
        if conns[index].phase.isOpen && unsent[index] == nil { flush(index) }
    }

    // MARK: epoll

    private func watch(_ index: Int, writable: Bool, add: Bool = false) {
        var event = epoll_event()
        event.events = UInt32(EPOLLIN.rawValue) | UInt32(EPOLLRDHUP.rawValue) | (writable ? UInt32(EPOLLOUT.rawValue) : 0)
        event.data.u64 = UInt64(index)
        epoll_ctl(epoll, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, sockets[index], &event)
    }

    private func service(_ index: Int, _ events: UInt32) {
        guard sockets[index] >= 0 else { return }
        if events & UInt32(EPOLLOUT.rawValue) != 0 {
            if conns[index].phase == .connecting && !upgrading.contains(index) {
                sendUpgrade(index)
            } else if let rest = unsent.removeValue(forKey: index) {
                write(index, rest)
                if unsent[index] == nil { watch(index, writable: false); flush(index) }
            }
        }
        guard sockets[index] >= 0 else { return }
        if events
            & (UInt32(EPOLLIN.rawValue) | UInt32(EPOLLRDHUP.rawValue) | UInt32(EPOLLHUP.rawValue) | UInt32(EPOLLERR.rawValue))
            != 0
        {
            readAll(index)
        }
    }

    private func sendUpgrade(_ index: Int) {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(sockets[index], SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else { drop(index, "connect: \(String(cString: strerror(error)))"); return }
        let query = tokens.isEmpty ? "" : "?token=\(tokens[index % tokens.count])"
        let request =
            "GET \(options.path)\(query) HTTP/1.1\r\nHost: \(options.host):\(options.port)\r\n"
            + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: YmVkcm9jay1sb2FkdGVzdA==\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bedrock.v1\r\n\r\n"
        upgrading.insert(index)
        watch(index, writable: false)
        write(index, Array(request.utf8))
    }

    /// Everything the socket has now (one or more reads), then the frames in it.
    private func readAll(_ index: Int) {
        while sockets[index] >= 0 {
            let n = recv(sockets[index], readBuffer, readBufferSize, 0)
            if n > 0 {
                consume(index, UnsafeRawBufferPointer(start: readBuffer, count: n))
                if n < readBufferSize { return }
            } else if n == 0 {
                drop(index, "closed by the server")
                return
            } else {
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    drop(index, "recv: \(String(cString: strerror(errno)))")
                }
                return
            }
        }
    }

    private func consume(_ index: Int, _ bytes: UnsafeRawBufferPointer) {
        if var held = partial.removeValue(forKey: index) {
            held.append(contentsOf: bytes)
            held.withUnsafeBytes { parse(index, $0) }
        } else {
            parse(index, bytes)
        }
    }

    /// The HTTP response while upgrading, then WebSocket frames; what is left incomplete is kept.
    private func parse(_ index: Int, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        if upgrading.contains(index) {
            guard let end = RawClientPool.headerEnd(bytes) else { partial[index] = Array(bytes); return }
            let status =
                String(decoding: bytes[0..<min(end, 64)], as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
            guard status.hasPrefix("HTTP/1.1 101") else { drop(index, "upgrade refused: \(status)"); return }
            upgrading.remove(index)
            conns[index].phase = .open
            offset = end
            flush(index)
        }
        while offset < bytes.count, sockets[index] >= 0 {
            guard let used = frame(index, UnsafeRawBufferPointer(rebasing: bytes[offset...])) else { break }
            offset += used
        }
        if offset < bytes.count, sockets[index] >= 0 { partial[index] = Array(bytes[offset...]) }
    }

    /// Handle the frame at the start of `bytes`; its size, or nil when it is not complete yet.
    private func frame(_ index: Int, _ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 2 else { return nil }
        let final = bytes[0] & 0x80 != 0, opcode = bytes[0] & 0x0f
        var length = Int(bytes[1] & 0x7f), header = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            header = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(bytes[$1]) }
            header = 10
        }
        if bytes[1] & 0x80 != 0 { header += 4 }  // a masked server frame is a protocol error; skip the key
        guard bytes.count >= header + length else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[header..<(header + length)])
        switch opcode {
        case 0, 1: receive(index, payload, final: final)
        case 8:
            if length >= 2 { conns[index].closeCode = Int32(payload[0]) << 8 | Int32(payload[1]) }
            drop(index, "closed by the server (code \(conns[index].closeCode))")
        case 9: sendFrame(index, opcode: 10, payload)
        default: break
        }
        return header + length
    }

    // MARK: writing

    /// Write every pending message of connection `index` while the socket takes them.
    private func flush(_ index: Int) {
        let payload = frameBuffer.advanced(by: 14)
        while sockets[index] >= 0, unsent[index] == nil, conns[index].phase.isOpen,
            let length = nextPayload(index, into: payload)
        {
            sendFrame(index, opcode: 1, UnsafeRawBufferPointer(start: payload, count: length))
        }
    }

    /// One masked client frame.
    private func sendFrame(_ index: Int, opcode: UInt8, _ payload: UnsafeRawBufferPointer) {
        var frame = [UInt8]()
        frame.reserveCapacity(payload.count + 8)
        frame.append(0x80 | opcode)
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame.append(0x80 | 126)
            frame.append(UInt8(payload.count >> 8 & 0xff))
            frame.append(UInt8(payload.count & 0xff))
        }
        let key = [mask.0, mask.1, mask.2, mask.3]
        frame.append(contentsOf: key)
        for (i, byte) in payload.enumerated() { frame.append(byte ^ key[i & 3]) }
        write(index, frame)
    }

    /// Send `bytes` (after anything still unsent); what the socket does not take waits for EPOLLOUT.
    private func write(_ index: Int, _ bytes: [UInt8]) {
        if var waiting = unsent[index] { waiting.append(contentsOf: bytes); unsent[index] = waiting; return }
        let sent = bytes.withUnsafeBytes { send(sockets[index], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent == bytes.count { return }
        if sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK {
            drop(index, "send: \(String(cString: strerror(errno)))"); return
        }
        unsent[index] = Array(bytes[max(0, sent)...])
        watch(index, writable: true)
    }

    /// Close connection `index` and count how it ended.
    private func drop(_ index: Int, _ why: String) {
        guard sockets[index] >= 0 else { return }
        epoll_ctl(epoll, EPOLL_CTL_DEL, sockets[index], nil)
        close(sockets[index])
        sockets[index] = -1
        partial[index] = nil
        unsent[index] = nil
        upgrading.remove(index)
        ended(index, why)
    }

    /// Offset just past `\r\n\r\n`, nil when the header is not complete.
    private static func headerEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 3..<bytes.count where bytes[i] == 10 && bytes[i - 1] == 13 && bytes[i - 2] == 10 && bytes[i - 3] == 13 {
            return i + 1
        }
        return nil
    }
}
