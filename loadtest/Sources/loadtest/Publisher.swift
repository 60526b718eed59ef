import Foundation
import RedisClient

/// Appends bench events to a topic's stream from its own thread and its own Redis connection,
/// paced to `rate` events/s, pipelining whatever is due (at most 256 commands per round trip).
/// Each event is `{"event_type":"bench","seq":k,"t":<CLOCK_REALTIME ns>}`, `seq` counting from 0.
final class Publisher: @unchecked Sendable {
    // Sound: `connection` is used only by the publisher thread after `start`; the shared counters
    // are behind `lock`.
    private let lock = NSLock()
    private var publishedCount = 0
    private var finished = false
    private var failure: String?
    private var stopRequested = false
    private let connection: RedisConnection
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
        do {
            connection = try RedisConnection(address, connectTimeout: 2, readTimeout: 10)
        } catch {
            throw OptionsError("publisher cannot connect to \(address): \(error)")
        }
        self.key = key
        self.total = total
        self.rate = rate
    }

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
        for reply in try connection.pipeline(commands) { _ = try reply.checked() }
        return commands.count
    }
}
