import Foundation
import RedisClient

/// Bridges Redis streams to topics (SPEC §7, DESIGN "The event loop").
///
/// One reader thread blocks on `XREAD BLOCK … STREAMS k1 k2 … id1 id2 …` over the streams that
/// currently have subscribers (topic `T` ↔ key `<prefix>stream:T`), decodes each entry's `event`
/// field once, encodes the outbound frame once and hands batches to `sink`.
///
/// Topic changes: `activate`/`deactivate` only enqueue and return at once (safe on the event-loop
/// thread). A second, tiny waker thread with its own connection then sends
/// `CLIENT UNBLOCK <reader-client-id>` so the blocked `XREAD` returns immediately and the reader
/// applies the change; it retries every 2 ms while the reader is not yet blocked, and the `BLOCK`
/// timeout (`Options.blockMillis`) is the backstop if `CLIENT UNBLOCK` is unavailable.
///
/// Ordering guarantee: `sink` and the activation `completion`s are called on the reader thread,
/// in order. A completion receives the topic's position P; every event with id ≤ P was passed to
/// `sink` before the completion runs, and every later event after it. So if both push into the
/// same inbox, a new subscriber that starts live at P sees no gap and no duplicate.
///
/// Trimmed entries: the reader waits with a one-entry `XREAD BLOCK`, then reads the streams that
/// have entries in one `MULTI` with their `XINFO STREAM`, and `StreamGapCheck` decides whether
/// entries after a stream's cursor were removed before they could be read (a producer trimming
/// with `MAXLEN` faster than the bridge reads). Such a hole is passed to `sink` as a gap frame
/// (`BridgedEvent(gapIn:after:next:)`) right before the stream's next entries.
///
/// Redis outages: the reader reconnects with exponential backoff (50 ms doubling, capped at
/// `Options.maxBackoff`), reports each change through `statusChanged`, and resumes every stream
/// from the last id it delivered, so nothing appended meanwhile is lost and nothing is repeated.
public final class StreamBridge: @unchecked Sendable {
    // @unchecked Sendable: immutable configuration plus `shared`, whose mutable state is guarded
    // by its NSCondition; the reader's own state lives in `StreamReader`, owned by the reader
    // thread alone.

    /// Tuning knobs; the defaults suit production.
    public struct Options: Sendable {
        /// Key prefix (`redis.prefix`), default `bedrock:`.
        public var prefix: String
        /// `XREAD BLOCK` milliseconds: the longest a topic change waits if the waker fails.
        public var blockMillis: Int
        /// `XREAD COUNT` per stream per read. Entries are lost only when the reader falls more
        /// than the producer's `MAXLEN` behind; a large batch catches up in few round trips.
        public var count: Int
        /// Reconnect backoff cap in seconds.
        public var maxBackoff: Double
        /// Connect timeout in seconds.
        public var connectTimeout: Double
        /// With no active topic the reader PINGs this often, so `isUp` stays truthful.
        public var idlePingSeconds: Double

        /// Options with the given values (defaults: `bedrock:`, 1000 ms, 2048, 2 s, 2 s, 1 s).
        public init(
            prefix: String = "bedrock:", blockMillis: Int = 1000, count: Int = 2048,
            maxBackoff: Double = 2, connectTimeout: Double = 2, idlePingSeconds: Double = 1
        ) {
            self.prefix = prefix
            self.blockMillis = blockMillis
            self.count = count
            self.maxBackoff = maxBackoff
            self.connectTimeout = connectTimeout
            self.idlePingSeconds = idlePingSeconds
        }
    }

    /// Counters for `/metrics` and `/ready`.
    public struct Stats: Sendable, Equatable {
        /// Events delivered to the sink, per topic.
        public var eventsIngested: [String: UInt64]
        /// Entries skipped because `event` was missing or not valid JSON (`malformed_events`).
        public var malformedEvents: UInt64
        /// Holes announced with a `gap` frame: entries trimmed before they could be read.
        public var gaps: UInt64
        /// Times the connection came back after being down.
        public var reconnects: UInt64
        /// Whether the reader is connected to Redis now.
        public var redisUp: Bool
        /// Topics with at least one activation.
        public var activeTopics: Int
    }

    let address: RedisAddress
    let options: Options
    let sink: @Sendable ([BridgedEvent]) -> Void
    let statusChanged: @Sendable (Bool) -> Void
    let shared = BridgeShared()
    private let readerDone = DispatchSemaphore(value: 0)
    private let wakerDone = DispatchSemaphore(value: 0)
    private let lifecycle = NSLock()
    private var started = false
    private var stopped = false

    /// Creates a stopped bridge; call `start()`.
    /// - Parameters:
    ///   - sink: receives batches of events, on the reader thread; must not block for long.
    ///   - statusChanged: `true` when Redis becomes reachable, `false` when it is lost (also
    ///     `false` first if the initial connect fails); reader thread.
    public init(
        address: RedisAddress, options: Options = Options(),
        sink: @escaping @Sendable ([BridgedEvent]) -> Void,
        statusChanged: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.address = address
        self.options = options
        self.sink = sink
        self.statusChanged = statusChanged
    }

    deinit { stop() }

    /// Starts the reader and waker threads. Idempotent.
    public func start() {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard !started, !stopped else { return }
        started = true
        let reader = Thread { [self] in
            StreamReader(bridge: self).run()
            readerDone.signal()
        }
        reader.name = "bedrock-stream-reader"
        reader.start()
        let waker = Thread { [self] in
            runWaker()
            wakerDone.signal()
        }
        waker.name = "bedrock-stream-waker"
        waker.start()
    }

    /// Adds one subscription reference to `topic`; returns at once (never blocks).
    ///
    /// The first activation resolves the stream's last id L (`0-0` when empty or missing) and
    /// reads from there; later ones reuse the bridge's current position. `completion(position)`
    /// is called once on the reader thread (see the ordering guarantee above); while Redis is
    /// down it waits until Redis is back. Balance each call with one `deactivate(topic:)`.
    public func activate(topic: String, completion: @escaping @Sendable (String) -> Void) {
        shared.enqueue(.activate(topic, completion))
    }

    /// Drops one subscription reference; the stream leaves the `XREAD` when none is left.
    /// Returns at once.
    public func deactivate(topic: String) {
        shared.enqueue(.deactivate(topic))
    }

    /// Stops both threads and waits for them (at most about `blockMillis` plus a connect
    /// timeout). Idempotent; the bridge cannot be restarted.
    public func stop() {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard !stopped else { return }
        stopped = true
        shared.requestStop()
        if started {
            readerDone.wait()
            wakerDone.wait()
        }
    }

    /// True while the reader is connected to Redis.
    public var isUp: Bool { shared.snapshot(activeTopics: 0).redisUp }

    /// A consistent copy of the counters.
    public func stats() -> Stats { shared.snapshot(activeTopics: nil) }

    // MARK: waker thread

    /// Turns each new generation of queued operations (or the stop request) into a
    /// `CLIENT UNBLOCK` of the reader's blocked `XREAD`.
    private func runWaker() {
        var connection: RedisConnection?
        var woken: UInt64 = 0
        while true {
            let (generation, stopping) = shared.waitForGeneration(after: woken)
            let deadline = Date().addingTimeInterval(Double(options.blockMillis) / 1000 + 1)
            while shared.readerNeedsWake(generation), Date() < deadline {
                guard let clientID = shared.readerClientID else { break }  // reader is reconnecting
                if connection == nil {
                    connection = try? RedisConnection(address, connectTimeout: 0.5, readTimeout: 1)
                }
                guard let conn = connection else { break }
                do {
                    if try conn.command(["CLIENT", "UNBLOCK", String(clientID)]).integer == 1 { break }
                } catch {
                    if error.breaksConnection { connection = nil }
                    break
                }
                usleep(2_000)
            }
            woken = generation
            if stopping { return }
        }
    }
}
