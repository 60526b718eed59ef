internal import CHiredis

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One blocking hiredis connection. The object owns its `redisContext*` and frees it in `deinit`
/// and nowhere else; no hiredis type appears in its API (replies are copied into `RedisReply`).
///
/// Threading: a connection is used by one thread at a time. It may be created on one thread and
/// handed to another (a worker that owns it from then on), but two threads must never call it
/// concurrently. After an error whose `breaksConnection` is true the connection is dead
/// (`isBroken`): open a new one.
public final class RedisConnection: @unchecked Sendable {
    // @unchecked Sendable: the context is owned by whichever single thread currently uses the
    // connection (documented contract above); hiredis keeps no global state, so handing the
    // object over between threads with a happens-before edge (a queue, a lock) is sound.
    private let context: UnsafeMutablePointer<redisContext>
    /// False once another connection took the context over (`init(adopting:as:)`): then that
    /// one frees it.
    private var ownsContext = true
    /// The address this connection was opened to (for a Sentinel address, that address: see
    /// `server` for the master it reached).
    public let address: RedisAddress
    /// The server this connection talks to: `address` itself, or the master a Sentinel named.
    public let server: RedisAddress
    /// True once an I/O or protocol error, or a reply saying the server is no longer a usable
    /// master (`READONLY`, `MASTERDOWN`: a failover), has made the connection unusable.
    public private(set) var isBroken = false
    /// True when the connection broke only because a reply took too long (a socket timeout, or
    /// commands abandoned in the output buffer): the server may be fine, so `RedisPool` keeps
    /// its sibling connections.
    public private(set) var brokeOnTimeout = false
    /// Seconds a reply may take when no deadline is set (nil: forever).
    private var readTimeout: Double?
    /// True while the socket timeout is cut to a deadline's time left instead of `readTimeout`.
    private var timeoutCut = false
    /// When set, every command must be answered by this instant: its socket timeout is the time
    /// left (never more than `readTimeout`), and one with no time left fails with `.io` before
    /// anything is sent (the connection stays usable). A command that runs out of time breaks
    /// the connection like any timeout. `RedisPool` sets it from `RedisDeadline.current`.
    public var deadline: ContinuousClock.Instant?

    /// Connects, then sends `AUTH` and `SELECT` when the address asks for them. A Sentinel
    /// address first asks its Sentinels, in turn, where the master is, and keeps the first
    /// connection whose `ROLE` is `master` (see `SentinelService`).
    /// - Parameter connectTimeout: seconds allowed for the TCP/unix connect.
    /// - Parameter readTimeout: seconds a reply may take before the call fails with `.io`
    ///   (nil: wait forever). Keep it longer than any `BLOCK` you send.
    /// - Parameter deadline: the initial `deadline` (it bounds `AUTH` and `SELECT` too).
    public convenience init(
        _ address: RedisAddress, connectTimeout: Double = 2, readTimeout: Double? = 5,
        deadline: ContinuousClock.Instant? = nil
    ) throws(RedisError) {
        guard case .sentinel(let service) = address.transport else {
            try self.init(direct: address, connectTimeout: connectTimeout, readTimeout: readTimeout, deadline: deadline)
            return
        }
        let master = try RedisConnection.connectToMaster(
            of: service, address: address, connectTimeout: connectTimeout, readTimeout: readTimeout,
            deadline: deadline)
        self.init(adopting: master, as: address)
    }

    /// Connects to a TCP or unix address (a Sentinel address is refused here).
    private init(
        direct address: RedisAddress, connectTimeout: Double, readTimeout: Double?,
        deadline: ContinuousClock.Instant?
    ) throws(RedisError) {
        let tv = RedisConnection.makeTimeval(seconds: connectTimeout)
        let ctx: UnsafeMutablePointer<redisContext>?
        switch address.transport {
        case .tcp(let host, let port): ctx = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path): ctx = redisConnectUnixWithTimeout(path, tv)
        case .sentinel: throw .invalidArgument("\(address): a Sentinel address names no server")
        }
        guard let ctx else { throw .connect("\(address): out of memory") }
        if ctx.pointee.err != 0 {
            let message = RedisConnection.errorString(ctx)
            redisFree(ctx)
            throw .connect("\(address): \(message)")
        }
        self.context = ctx
        self.address = address
        self.server = address
        self.deadline = deadline
        do {
            try setReadTimeout(readTimeout)
            if let password = address.password {
                _ = try command(["AUTH", password]).checked()
            }
            if address.db != 0 {
                _ = try command(["SELECT", String(address.db)]).checked()
            }
        } catch {
            throw .connect("\(address): \(error)")
        }
    }

    /// Takes over `other`'s context (which `other` will not free), presenting it as `address`.
    private init(adopting other: RedisConnection, as address: RedisAddress) {
        other.ownsContext = false
        context = other.context
        self.address = address
        server = other.server
        isBroken = other.isBroken
        readTimeout = other.readTimeout
        timeoutCut = other.timeoutCut
        deadline = other.deadline
    }

    deinit { if ownsContext { redisFree(context) } }

    /// Sets the socket read/write timeout (nil or 0: none). A command that times out fails with
    /// `.io` and breaks the connection, so a blocking command can never hang forever.
    public func setReadTimeout(_ seconds: Double?) throws(RedisError) {
        readTimeout = seconds
        timeoutCut = false
        try setSocketTimeout(seconds)
    }

    private func setSocketTimeout(_ seconds: Double?) throws(RedisError) {
        let tv = RedisConnection.makeTimeval(seconds: seconds ?? 0)
        if redisSetTimeout(context, tv) != 0 { throw failure() }
    }

    /// Seconds the next command may take before the socket gives up: the deadline's time left,
    /// at most the read timeout; nil when neither bounds it.
    public var replyWindow: Double? {
        let read = readTimeout.flatMap { $0 > 0 ? $0 : nil }
        guard let deadline else { return read }
        let left = RedisDeadline.secondsLeft(until: deadline)
        return min(left, read ?? left)
    }

    /// Before a command: the socket timeout for `deadline`'s time left, or back to `readTimeout`.
    private func armTimeout() throws(RedisError) {
        guard let deadline else {
            if timeoutCut {
                timeoutCut = false
                try setSocketTimeout(readTimeout)
            }
            return
        }
        let left = RedisDeadline.secondsLeft(until: deadline)
        // Under a millisecond left: the socket timeout could not express it (0 means none).
        guard left >= 0.001 else { throw .io("no time left before the deadline") }
        timeoutCut = true
        try setSocketTimeout(min(left, readTimeout.flatMap { $0 > 0 ? $0 : nil } ?? left))
    }

    /// Sends one command and returns its reply. An error reply comes back as `.error` (use
    /// `.checked()` to turn it into a throw); I/O and protocol failures throw.
    public func command(_ args: [String]) throws(RedisError) -> RedisReply {
        try command(binary: args.map { Array($0.utf8) })
    }

    /// Binary-safe variant of `command(_:)`: each argument is sent byte for byte.
    public func command(binary args: [[UInt8]]) throws(RedisError) -> RedisReply {
        if isBroken { throw .io("connection already failed") }
        if args.isEmpty { throw .invalidArgument("empty command") }
        try armTimeout()
        let raw = withArgv(args) { argc, argv, lens in redisCommandArgv(context, argc, argv, lens) }
        guard let raw else { throw failure() }
        defer { freeReplyObject(raw) }
        return noteRole(RedisConnection.copy(raw.assumingMemoryBound(to: redisReply.self)))
    }

    /// Breaks the connection when `reply` says its server stopped being a usable master
    /// (`RedisError.isFailoverReply`), so pools drop it and the next connect finds the master.
    private func noteRole(_ reply: RedisReply) -> RedisReply {
        if case .error(let message) = reply, RedisError.isFailoverReply(message) { isBroken = true }
        return reply
    }

    /// The linked hiredis version, `major.minor.patch` (for start-up logs and smoke checks).
    public static let libraryVersion = "\(HIREDIS_MAJOR).\(HIREDIS_MINOR).\(HIREDIS_PATCH)"

    // MARK: pipelined / subscribe-mode primitives (used by pipelines and PubSubBridge)

    /// Queues a command in the output buffer without sending it. Same threading rule as
    /// `command(_:)`: one thread at a time.
    public func append(_ args: [String]) throws(RedisError) {
        try append(binary: args.map { Array($0.utf8) })
    }

    /// Binary-safe variant of `append(_:)`: each argument is sent byte for byte.
    public func append(binary args: [[UInt8]]) throws(RedisError) {
        if isBroken { throw .io("connection already failed") }
        if args.isEmpty { throw .invalidArgument("empty command") }
        let rc = withArgv(args) { argc, argv, lens in
            redisAppendCommandArgv(context, argc, argv, lens)
        }
        if rc != REDIS_OK { throw failure() }
    }

    /// Writes the whole output buffer to the socket. Same threading rule as `command(_:)`.
    public func flush() throws(RedisError) {
        do {
            try armTimeout()
        } catch {
            // Queued commands stay in the output buffer: a later command would send them too and
            // read their replies as its own, so this connection is done.
            abandon()
            throw error
        }
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK { throw failure() }
        }
    }

    /// The next reply, waiting at most `timeoutMillis` for the socket to become readable;
    /// nil when nothing complete arrived in time (the connection stays usable). Same threading
    /// rule as `command(_:)`.
    public func nextReply(timeoutMillis: Int32) throws(RedisError) -> RedisReply? {
        if let reply = try bufferedReply() { return reply }
        var pfd = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, timeoutMillis)
        if ready < 0 {
            if errno == EINTR { return nil }
            isBroken = true
            throw .io("poll: \(String(cString: strerror(errno)))")
        }
        if ready == 0 { return nil }
        if redisBufferRead(context) != REDIS_OK { throw failure() }
        return try bufferedReply()
    }

    private func bufferedReply() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        if redisGetReplyFromReader(context, &raw) != REDIS_OK { throw failure() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return noteRole(RedisConnection.copy(raw.assumingMemoryBound(to: redisReply.self)))
    }

    /// Marks the connection unusable (a pool drops it): replies it owes may still arrive, or
    /// commands are still queued, so the next command's reply would not be its own.
    func abandon() {
        if !isBroken { brokeOnTimeout = true }
        isBroken = true
    }

    // MARK: helpers

    /// Lays all arguments out in one buffer and calls `body` with argc/argv/argvlen.
    private func withArgv<R>(
        _ args: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var storage = [UInt8]()
        storage.reserveCapacity(args.reduce(1) { $0 + $1.count })
        var offsets = [Int]()
        var lengths = [Int]()
        for arg in args {
            offsets.append(storage.count)
            lengths.append(arg.count)
            storage.append(contentsOf: arg)  // one copy per argument, not one call per byte
        }
        storage.append(0)
        return storage.withUnsafeBufferPointer { bytes in
            // UInt8 and CChar have the same size and alignment: the rebinding is sound.
            bytes.withMemoryRebound(to: CChar.self) { buf in
                var argv: [UnsafePointer<CChar>?] = offsets.map { buf.baseAddress! + $0 }
                return argv.withUnsafeMutableBufferPointer { argvBuf in
                    lengths.withUnsafeBufferPointer { lens in
                        body(Int32(args.count), argvBuf.baseAddress!, lens.baseAddress!)
                    }
                }
            }
        }
    }

    /// Maps the context's error flags to a `RedisError` and marks the connection broken.
    private func failure() -> RedisError {
        isBroken = true
        let message = RedisConnection.errorString(context)
        switch context.pointee.err {
        case REDIS_ERR_PROTOCOL: return .protocolError(message)
        case REDIS_ERR_EOF: return .io("server closed the connection")
        default:
            if message.contains("temporarily unavailable") {
                brokeOnTimeout = true
                return .io(RedisError.readTimedOut)
            }
            return .io(message.isEmpty ? "unknown error" : message)
        }
    }

    private static func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }

    private static func makeTimeval(seconds: Double) -> timeval {
        let whole = Int(seconds)
        let micros = Int((seconds - Double(whole)) * 1_000_000)
        #if canImport(Darwin)
            return timeval(tv_sec: whole, tv_usec: Int32(micros))
        #else
            return timeval(tv_sec: whole, tv_usec: micros)
        #endif
    }

    /// Copies a hiredis reply tree into Swift values.
    private static func copy(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STATUS: return .status(text(reply))
        case REDIS_REPLY_ERROR: return .error(text(reply))
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.integer))
        case REDIS_REPLY_STRING:
            guard let str = reply.str else { return .bulk([]) }
            return .bulk(Array(UnsafeRawBufferPointer(start: str, count: reply.len)))
        case REDIS_REPLY_ARRAY:
            var items = [RedisReply]()
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                if let child = reply.element[i] { items.append(copy(child)) } else { items.append(.null) }
            }
            return .array(items)
        default: return .null
        }
    }

    private static func text(_ reply: redisReply) -> String {
        guard let str = reply.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: reply.len), as: UTF8.self)
    }
}
