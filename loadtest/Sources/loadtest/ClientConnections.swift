/// What a scenario drives: client connections to the gateway, serviced on the thread inside
/// the pool's `run`. Two kinds: `ClientPool` (libwebsockets' client) and `RawClientPool` (plain
/// sockets on epoll). Both read frames and choose what to send next through the extension below,
/// so they count, check and answer the same way.
protocol ClientConnections: AnyObject {
    /// Per-connection state, index = connection number.
    var conns: ContiguousArray<ConnState> { get set }
    var stats: PoolStats { get }
    var scanner: FrameScanner { get }
    /// The requests of the `request`, `mixed` and `soak` scenarios (nil: this pool sends none).
    var requests: RequestTracker? { get set }
    /// Send `subscribe` as soon as a connection is welcomed.
    var autoSubscribe: Bool { get set }
    /// Set when the scenario is over: closes from here on are expected.
    var finishing: Bool { get }
    /// The frames this pool sends.
    var messages: ClientMessages { get }
    /// Start connection `index`; false when it was refused at once.
    @discardableResult func connect(_ index: Int) -> Bool
    /// Mark `bit` (a `ConnState.want*`) pending for connection `index` and get it written.
    func want(_ index: Int, _ bit: UInt8)
    /// End the run (loop thread).
    func stop()
}

/// The client's own frames, built once.
struct ClientMessages {
    let pong = Array(#"{"type":"pong"}"#.utf8)
    let subscribe: [UInt8]
    /// `{"type":"request","id":` and `,"method":M,"params":P}`: a request is prefix + id + suffix.
    let requestPrefix = Array(#"{"type":"request","id":"#.utf8)
    let requestSuffix: [UInt8]

    init(_ options: Options) {
        subscribe = Array(#"{"type":"subscribe","id":1,"topic":"#.utf8) + Array("\"\(options.topic)\"}".utf8)
        requestSuffix = Array(#","method":"\#(options.method)","params":\#(options.params)}"#.utf8)
    }

    /// Room a payload of `nextPayload` may need.
    var largest: Int { max(pong.count, subscribe.count, requestPrefix.count + 20 + requestSuffix.count) }
}

extension ClientConnections {
    /// Queue `{"type":"subscribe"}` for connection `index`.
    func subscribe(_ index: Int) { want(index, ConnState.wantSubscribe) }

    /// Ask connection `index` to write requests while its tracker lets it.
    func requestMore(_ index: Int) { want(index, ConnState.wantRequest) }

    /// The next frame connection `index` has to send, written at `into` (room for
    /// `messages.largest` bytes): a pong first, then the subscribe, then a request. Clears the bit
    /// it served; nil when nothing is pending.
    func nextPayload(_ index: Int, into buffer: UnsafeMutableRawPointer) -> Int? {
        let bits = conns[index].pending
        func put(_ bytes: [UInt8], at offset: Int) -> Int {
            bytes.withUnsafeBytes { buffer.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return offset + bytes.count
        }
        if bits & ConnState.wantPong != 0 {
            conns[index].pending &= ~ConnState.wantPong
            return put(messages.pong, at: 0)
        }
        if bits & ConnState.wantSubscribe != 0 {
            conns[index].pending &= ~ConnState.wantSubscribe
            return put(messages.subscribe, at: 0)
        }
        if bits & ConnState.wantRequest != 0, let requests, requests.canIssue(index) {
            let id = requests.issue(index, now: ClockNs.realtime())
            var length = put(messages.requestPrefix, at: 0)
            length = put(Array(String(id).utf8), at: length)
            length = put(messages.requestSuffix, at: length)
            if !requests.canIssue(index) { conns[index].pending &= ~ConnState.wantRequest }
            return length
        }
        conns[index].pending &= ~ConnState.wantRequest
        return nil
    }

    /// Connection `index` ended (`why` when it never got its welcome): counted as a failed
    /// connect, or as an unexpected close unless the scenario is finishing.
    func ended(_ index: Int, _ why: String) {
        guard conns[index].phase != .failed else { return }
        let wasOpen = conns[index].phase.isOpen
        conns[index].phase = .failed
        if wasOpen {
            if !finishing { stats.unexpectedCloses += 1; stats.closeCodes[conns[index].closeCode, default: 0] += 1 }
        } else {
            stats.failed += 1
            if stats.failureSamples.count < 5 { stats.failureSamples.append(why) }
        }
    }

    /// One piece of a text frame: split on `\n`, carrying an incomplete object to the next piece.
    func receive(_ index: Int, _ bytes: UnsafeRawBufferPointer, final: Bool) {
        let now = ClockNs.realtime()
        if final { stats.frames += 1 }
        var start = 0
        var i = 0
        while i <= bytes.count {
            let atEnd = i == bytes.count
            if atEnd || bytes[i] == UInt8(ascii: "\n") {
                if atEnd && !final {
                    if start < i { conns[index].carry.append(contentsOf: bytes[start..<i]) }
                    break
                }
                if conns[index].carry.isEmpty {
                    handle(index, UnsafeRawBufferPointer(rebasing: bytes[start..<i]), now: now)
                } else {
                    var line = conns[index].carry
                    conns[index].carry = []
                    line.append(contentsOf: bytes[start..<i])
                    line.withUnsafeBytes { handle(index, $0, now: now) }
                }
                start = i + 1
            }
            i += 1
        }
    }

    func handle(_ index: Int, _ line: UnsafeRawBufferPointer, now: UInt64) {
        guard !line.isEmpty else { return }
        switch scanner.scan(line) {
        case let .event(idMs, idSeq, seq, sentNs):
            stats.events += 1
            if let sentNs { stats.latency.record(now > sentNs ? now - sentNs : 0) }
            if stats.firstEventNs == 0 { stats.firstEventNs = now }
            stats.lastEventNs = now
            conns[index].record(idMs: idMs, idSeq: idSeq, seq: seq)
        case .ping:
            stats.pings += 1
            want(index, ConnState.wantPong)
        case .welcome:
            if conns[index].phase == .open || conns[index].phase == .connecting {
                conns[index].phase = .welcomed
                stats.welcomed += 1
                stats.lastWelcomeNs = now
                if autoSubscribe { want(index, ConnState.wantSubscribe) }
            }
        case .subscribed:
            if conns[index].phase != .subscribed { conns[index].phase = .subscribed; stats.subscribed += 1 }
        case let .response(id):
            requests?.answer(index, id: id, errorCode: nil, now: now)
            if requests?.canIssue(index) == true { want(index, ConnState.wantRequest) }
        case let .error(id, code):
            stats.errorFrames += 1
            guard let requests else { break }
            if let id { requests.answer(index, id: id, errorCode: code, now: now) } else { requests.unattributedError(code) }
            if requests.canIssue(index) { want(index, ConnState.wantRequest) }
        case .other:
            break
        }
    }
}
