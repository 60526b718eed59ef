import Foundation
import RedisClient

/// Optional bridging of Redis pub/sub channels to topics (SPEC §7), e.g.
/// `dfp:opportunities:ws` → `opportunities`.
///
/// A dedicated connection in SUBSCRIBE mode on its own thread; each message becomes a
/// `BridgedEvent` with id nil and frame `{"type":"event","topic":T,"id":null,"data":<message>}`.
/// Messages that are not valid JSON are skipped and counted. Pub/sub keeps no history: messages
/// published while the connection is down are lost (that is why these events carry no id).
/// Reconnects with exponential backoff (50 ms doubling, capped at `maxBackoff`) and reports each
/// change through `statusChanged`. `sink` and `statusChanged` run on the bridge's thread.
public final class PubSubBridge: @unchecked Sendable {
    // @unchecked Sendable: configuration is immutable; the mutable counters and flags are guarded
    // by `condition`; the connection lives on the bridge thread only.

    /// Counters for `/metrics`.
    public struct Stats: Sendable, Equatable {
        /// Messages delivered, per topic.
        public var eventsIngested: [String: UInt64]
        /// Messages skipped because they were not valid JSON.
        public var malformedEvents: UInt64
        /// Whether the subscriber connection is up.
        public var redisUp: Bool
    }

    private let address: RedisAddress
    private let topicByChannel: [String: String]
    private let prefixes: [String: [UInt8]]
    private let maxBackoff: Double
    private let sink: @Sendable ([BridgedEvent]) -> Void
    private let statusChanged: @Sendable (Bool) -> Void
    private let condition = NSCondition()
    private var stopping = false
    private var started = false
    private var up = false
    private var ingested: [String: UInt64] = [:]
    private var malformed: UInt64 = 0
    private let done = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - channels: channel name → topic name (from config).
    ///   - sink: receives batches of events on the bridge thread.
    ///   - statusChanged: connection up/down, on the bridge thread.
    public init(
        address: RedisAddress, channels: [String: String], maxBackoff: Double = 2,
        sink: @escaping @Sendable ([BridgedEvent]) -> Void,
        statusChanged: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.address = address
        self.topicByChannel = channels
        self.prefixes = Dictionary(uniqueKeysWithValues: Set(channels.values).map { ($0, EventFrameEncoder.prefix(topic: $0)) })
        self.maxBackoff = maxBackoff
        self.sink = sink
        self.statusChanged = statusChanged
    }

    deinit { stop() }

    /// Starts the subscriber thread (does nothing when no channel is configured). Idempotent.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started, !stopping, !topicByChannel.isEmpty else { return }
        started = true
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = "bedrock-pubsub"
        thread.start()
    }

    /// Stops the thread and waits for it (at most ~200 ms plus a connect timeout). Idempotent.
    public func stop() {
        condition.lock()
        let wasRunning = started && !stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if wasRunning { done.wait() }
    }

    /// A consistent copy of the counters.
    public func stats() -> Stats {
        condition.lock()
        defer { condition.unlock() }
        return Stats(eventsIngested: ingested, malformedEvents: malformed, redisUp: up)
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    private func sleep(_ seconds: Double) {
        condition.lock()
        let deadline = Date().addingTimeInterval(seconds)
        while !stopping && condition.wait(until: deadline) {}
        condition.unlock()
    }

    // MARK: bridge thread

    private func run() {
        var backoff = 0.05
        var reported: Bool?
        func report(_ value: Bool) {
            guard reported != value else { return }
            reported = value
            condition.lock()
            up = value
            condition.unlock()
            statusChanged(value)
        }
        while !isStopping {
            do {
                let conn = try RedisConnection(address, connectTimeout: 2, readTimeout: 10)
                let pong = try conn.command(["PING"])  // usable, not loading, not a self-connect
                guard pong == .status("PONG") else { throw RedisError.io("PING answered \(pong)") }
                try conn.append(["SUBSCRIBE"] + topicByChannel.keys.sorted())
                try conn.flush()
                report(true)
                backoff = 0.05
                try pump(conn)
            } catch {
                report(false)
                sleep(backoff)
                backoff = min(backoff * 2, maxBackoff)
            }
        }
    }

    /// Reads messages until stop or a connection error; PINGs after 15 s of silence.
    private func pump(_ conn: RedisConnection) throws(RedisError) {
        var idleSince = Date()
        while !isStopping {
            guard let first = try conn.nextReply(timeoutMillis: 200) else {
                if Date().timeIntervalSince(idleSince) > 15 {
                    try conn.append(["PING"])
                    try conn.flush()
                    idleSince = Date()
                }
                continue
            }
            idleSince = Date()
            var batch: [BridgedEvent] = []
            var perTopic: [String: UInt64] = [:]
            var bad: UInt64 = 0
            var next: RedisReply? = first
            while let reply = next {
                if let parts = reply.array, parts.count == 3, parts[0].string == "message",
                    let channel = parts[1].string, let topic = topicByChannel[channel],
                    case .bulk(let payload) = parts[2], let prefix = prefixes[topic]
                {
                    if let frame = EventFrameEncoder.frame(prefix: prefix, id: nil, event: payload) {
                        batch.append(BridgedEvent(topic: topic, id: nil, frame: frame))
                        perTopic[topic, default: 0] += 1
                    } else {
                        bad += 1
                    }
                }
                next = batch.count < 512 ? try conn.nextReply(timeoutMillis: 0) : nil
            }
            condition.lock()
            for (topic, n) in perTopic { ingested[topic, default: 0] += n }
            malformed += bad
            condition.unlock()
            if !batch.isEmpty { sink(batch) }
        }
    }
}
