import Bedrock
import CHiredis
import Foundation

/// Appends bench events to a topic's stream from its own thread and its own hiredis connection,
/// paced to `rate` events/s, pipelining whatever is due (at most 256 commands per round trip).
/// Each event is `{"event_type":"bench","seq":k,"t":<CLOCK_REALTIME ns>}`, `seq` counting from 0.
final class Publisher: @unchecked Sendable {
    // Sound: `context` is used only by the publisher thread after `start`; the shared counters
    // are behind `lock`.
    private let lock = NSLock()
    private var publishedCount = 0
    private var finished = false
    private var failure: String?
    private var stopRequested = false
    private let context: UnsafeMutablePointer<redisContext>
    private let key: String
    private let total: Int
    private let rate: Double

    /// Events appended so far.
    var published: Int { lock.lock(); defer { lock.unlock() }; return publishedCount }
    /// Whether the thread has ended (all published, stopped, or failed).
    var isFinished: Bool { lock.lock(); defer { lock.unlock() }; return finished }
    /// Why publishing stopped early, if it did.
    var error: String? { lock.lock(); defer { lock.unlock() }; return failure }

    /// Connects to `address` (AUTH/SELECT as it asks). Throws a readable message.
    init(address: RedisAddress, key: String, total: Int, rate: Double) throws {
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        let ctx: UnsafeMutablePointer<redisContext>?
        switch address.transport {
        case .tcp(let host, let port): ctx = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path): ctx = redisConnectUnixWithTimeout(path, tv)
        }
        guard let ctx, ctx.pointee.err == 0 else {
            throw OptionsError("publisher cannot connect to \(address)")
        }
        tv.tv_sec = 10
        _ = redisSetTimeout(ctx, tv)
        context = ctx
        self.key = key
        self.total = total
        self.rate = rate
        if let password = address.password { _ = try pipeline([["AUTH", password]]) }
        if address.db != 0 { _ = try pipeline([["SELECT", String(address.db)]]) }
    }

    deinit { redisFree(context) }

    /// Start the publishing thread.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "loadtest-publisher"
        thread.start()
    }

    /// Ask the thread to stop early (any thread).
    func stop() { lock.lock(); stopRequested = true; lock.unlock() }

    private func run() {
        let startNs = ClockNs.monotonic()
        var sent = 0
        while sent < total {
            lock.lock(); let stopping = stopRequested; lock.unlock()
            if stopping { break }
            let elapsed = Double(ClockNs.monotonic() - startNs) / 1e9
            let due = min(total, Int(elapsed * rate) + 1)
            if due <= sent {
                let wait = (Double(sent) / rate - elapsed) * 1e9
                var ts = timespec(tv_sec: 0, tv_nsec: Int(min(max(wait, 10_000), 2_000_000)))
                nanosleep(&ts, nil)
                continue
            }
            let batch = min(due - sent, 256)
            var commands: [[String]] = []
            commands.reserveCapacity(batch)
            for k in sent..<(sent + batch) {
                let event = #"{"event_type":"bench","seq":\#(k),"t":\#(ClockNs.realtime())}"#
                commands.append(["XADD", key, "MAXLEN", "~", "100000", "*", "event", event])
            }
            do { _ = try pipeline(commands) } catch {
                lock.lock(); failure = "\(error)"; lock.unlock()
                break
            }
            sent += batch
            lock.lock(); publishedCount = sent; lock.unlock()
        }
        lock.lock(); finished = true; lock.unlock()
    }

    /// Send `commands` in one write, then read every reply; throws on any error reply.
    private func pipeline(_ commands: [[String]]) throws -> Int {
        for command in commands {
            let args = command.map { strdup($0) }
            defer { args.forEach { free($0) } }
            var pointers = args.map { UnsafePointer<CChar>($0) }
            var lengths = command.map { $0.utf8.count }
            guard redisAppendCommandArgv(context, Int32(args.count), &pointers, &lengths) == REDIS_OK else {
                throw OptionsError("redis append failed")
            }
        }
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw OptionsError("redis I/O error (hiredis err \(context.pointee.err))")
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            defer { freeReplyObject(raw) }
            if reply.pointee.type == REDIS_REPLY_ERROR {
                throw OptionsError("redis error: \(String(cString: reply.pointee.str))")
            }
        }
        return commands.count
    }
}
