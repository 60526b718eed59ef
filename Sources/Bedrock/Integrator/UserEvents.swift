import Dispatch
import GatewayCore
import JSONCodec
import Logging
import RedisClient
import Synchronization

/// Appends events addressed to one user to that user's stream `<prefix>stream:user:<sub>`
/// (SPEC §14, the `user` topic): every connection of `sub` subscribed to `user`, on every
/// gateway, reads that stream. Each event gets the envelope (`event_type`, `schema_version`
/// "2.0", `timestamp`) ahead of its fields and the stream is capped like every other
/// (`MAXLEN ~ redis.stream_maxlen`).
///
/// Emitters (jobs, manual position actions, notices) call `post`: it never blocks and never
/// fails the call it follows — the append runs on the helper's own thread, in posting order, and
/// a failed append is logged and dropped. At most `maxPending` appends wait; beyond that new ones
/// are dropped (logged), so a Redis outage cannot grow memory without bound.
///
/// Threading: any thread may call `post` and `append`; `append` uses the caller's connection.
public final class UserEvents: Sendable {
    /// The key prefix (`redis.prefix`).
    public let prefix: String
    /// The approximate stream cap (`redis.stream_maxlen`).
    public let maxLength: Int
    private let pool: RedisPool
    private let worker: WorkerPool
    private let pending = Atomic<Int>(0)
    private let maxPending: Int
    private static let log = Logger(label: "bedrock.user-events")

    /// Events go to the Redis behind `pool`, keys under `prefix`, streams capped at `maxLength`.
    public init(pool: RedisPool, prefix: String, maxLength: Int, maxPending: Int = 10_000) {
        self.pool = pool
        self.prefix = prefix
        self.maxLength = maxLength
        self.maxPending = max(1, maxPending)
        worker = WorkerPool(threads: 1, name: "bedrock-user-events")
    }

    /// The stream of `sub`'s events: `<prefix>stream:user:<sub>`.
    public static func streamKey(prefix: String, sub: String) -> String {
        StreamKeys.key(prefix: prefix, topic: topicName(sub: sub))
    }

    /// The addressed topic name of `sub`'s stream, `user:<sub>` (the form `events.publish` takes).
    public static func topicName(sub: String) -> String { "user:" + sub }

    /// `fields` with the envelope added where missing, in front: `event_type` (`eventType`),
    /// `schema_version` "2.0", `timestamp` (`now`, RFC 3339 UTC). Fields already present keep their
    /// value and place.
    public static func envelope(_ fields: JSONObject, eventType: String, now: String) -> JSONObject {
        var members: [(String, JSONValue)] = []
        members.reserveCapacity(fields.count + 3)
        if fields["event_type"] == nil { members.append(("event_type", .string(eventType))) }
        if fields["schema_version"] == nil { members.append(("schema_version", "2.0")) }
        if fields["timestamp"] == nil { members.append(("timestamp", .string(now))) }
        for member in fields.members { members.append((member.key, member.value)) }
        return JSONObject(members)
    }

    /// Appends `eventType` with `fields` to `sub`'s stream now, on `connection`; returns the
    /// entry id. Throws what Redis throws.
    @discardableResult
    public func append(
        sub: String, eventType: String, fields: JSONObject, on connection: RedisConnection
    ) throws(RedisError) -> String {
        let event = Self.envelope(fields, eventType: eventType, now: Timestamp.now())
        return try StreamAppend.append(
            connection, topic: Self.topicName(sub: sub), eventJSON: JSONCodec.encodeString(.object(event)),
            maxLength: maxLength, prefix: prefix)
    }

    /// Queues the append of `eventType` with `fields` to `sub`'s stream and returns at once. The
    /// append runs on the helper's thread (after the ones posted before it); a failure is logged.
    /// The timestamp is taken now, when the thing happened.
    public func post(sub: String, eventType: String, fields: JSONObject) {
        let event = Self.envelope(fields, eventType: eventType, now: Timestamp.now())
        guard pending.wrappingAdd(1, ordering: .relaxed).oldValue < maxPending else {
            pending.wrappingSubtract(1, ordering: .relaxed)
            Self.log.warning("user event \(eventType) for \(sub) dropped: \(maxPending) appends already waiting")
            return
        }
        let text = JSONCodec.encodeString(.object(event))
        worker.submit { [self] in
            defer { pending.wrappingSubtract(1, ordering: .relaxed) }
            do {
                try pool.with { connection in
                    try StreamAppend.append(
                        connection, topic: Self.topicName(sub: sub), eventJSON: text, maxLength: maxLength,
                        prefix: prefix)
                }
            } catch {
                Self.log.warning("user event \(eventType) for \(sub) not appended: \(error)")
            }
        }
    }

    /// Appends posted but not yet written (tests wait for 0).
    public var waiting: Int { pending.load(ordering: .relaxed) }

    /// Waits up to `timeout` seconds for the appends posted so far to be written (at shutdown,
    /// after the job workers stopped: their last `job.completed` events are not lost). Returns
    /// false when some were still waiting at the deadline (they are logged as given up).
    @discardableResult
    public func flush(timeout: Double = 3) -> Bool {
        let done = DispatchSemaphore(value: 0)
        worker.submit { done.signal() }  // runs after every append queued before it
        if done.wait(timeout: .now() + max(0, timeout)) == .success { return true }
        Self.log.warning("user events: \(waiting) appends not written within \(timeout) s of the stop")
        return false
    }
}
