import DequeModule
import Foundation
import GatewayCore
import JSONCodec
import Logging
import RedisClient

/// `events.publish` off the worker pool: the event loop queues each call here and returns; one
/// thread takes every call waiting, checks each (`PublishRequest`), sends all their appends
/// (`XADD`, or the idempotency script) in one pipelined round trip on its own connection, and
/// hands each answer back through the call's completion (which posts it to its loop). Under load
/// a batch carries many publishes, so a publish costs a fraction of a thread hand-off and of a
/// Redis round trip instead of a worker wake-up, a blocking read and a wake-up of the loop each
/// (measured: 3.2 context switches per publish through the workers, docs/BENCHMARKS.md).
///
/// Replies come back in order on the one connection, so publishes reach their stream in the
/// order they were queued. At most `maxQueued` calls wait (beyond, UNAVAILABLE at once). A call
/// still queued when its deadline (`timeout` after it was queued) passes is answered UNAVAILABLE
/// without being sent (the loop's watchdog answers it at the same
/// time in any case). A broken connection fails the batch in flight with UNAVAILABLE (as a
/// worker's would: the append may or may not have happened) and is reopened for the next one.
///
/// Threading: `enqueue` from any thread (the loops); everything else on the pipeline's thread.
final class PublishPipeline: Sendable {
    private struct Waiting: Sendable {
        let call: MethodCall
        let deadline: Double
        let completion: @Sendable (Result<JSONValue, APIError>) -> Void
    }

    private let queue = WaitQueue<Waiting>()
    private let address: RedisAddress
    private let prefix: String
    private let maxLength: Int
    private let scripts: ScriptRunner
    private let counters: PublishCounters
    private let timeout: Double
    private let clock: any GatewayClock
    /// Most publishes sent in one round trip.
    static let maxBatch = 512
    /// Most publishes waiting (bounded memory; a constant, not a setting: at 64 KiB each at most,
    /// 640 MiB in the worst case, and far more than one `redis.command_timeout_ms` of publishes).
    static let maxQueued = 10_000
    private static let late = APIError(.unavailable, "no answer in time; try again shortly")
    private static let log = Logger(label: "bedrock.publish")

    /// A pipeline to the Redis at `address`, keys under `prefix`, streams capped at `maxLength`,
    /// each call answered within `timeout` seconds of being queued (on `clock`).
    init(
        address: RedisAddress, prefix: String, maxLength: Int, scripts: ScriptRunner, counters: PublishCounters,
        timeout: Double, clock: any GatewayClock = SystemClock()
    ) {
        self.address = address
        self.prefix = prefix
        self.maxLength = maxLength
        self.scripts = scripts
        self.counters = counters
        self.timeout = timeout
        self.clock = clock
        let thread = Thread { [self] in run() }
        thread.name = "bedrock-publish"
        thread.start()
    }

    /// Queues `call`; `completion` gets its answer on the pipeline's thread. Never blocks. When
    /// `maxQueued` calls wait already (Redis slower than the publishers for a while), the ones past
    /// their deadline (the oldest) are answered UNAVAILABLE and dropped, and if the queue is still
    /// full `call` is answered UNAVAILABLE at once, on the caller's thread.
    func enqueue(_ call: MethodCall, completion: @escaping @Sendable (Result<JSONValue, APIError>) -> Void) {
        let now = clock.read().monotonic
        let item = Waiting(call: call, deadline: now + timeout, completion: completion)
        let (queued, expired) = queue.push(item, limit: Self.maxQueued) { $0.deadline <= now }
        for old in expired { old.completion(.failure(Self.late)) }
        if !queued { completion(.failure(APIError(.unavailable, "too many publishes waiting; try again shortly"))) }
    }

    /// Ends the pipeline's thread once the calls queued so far are answered (shutdown).
    func stop() { queue.close() }

    private func run() {
        var connection: RedisConnection?
        while let batch = queue.take(max: Self.maxBatch) {
            let now = clock.read().monotonic
            var sent: [(Waiting, PublishRequest)] = []
            for item in batch {
                guard item.deadline > now else {
                    item.completion(.failure(Self.late))
                    continue
                }
                do {
                    sent.append(
                        (item, try PublishRequest.parse(item.call.params, caller: item.call.subject, now: Timestamp.now())))
                } catch {
                    item.completion(.failure(error))
                }
            }
            if sent.isEmpty { continue }
            do {
                if connection == nil || connection!.isBroken {
                    connection = try RedisConnection(address, connectTimeout: timeout, readTimeout: timeout)
                }
                let outcomes = try publish(sent.map(\.1), on: connection!)
                for ((item, request), outcome) in zip(sent, outcomes) {
                    item.completion(
                        outcome.flatMap { outcome in
                            counters.count(outcome)
                            return Result { () throws(APIError) in try EventMethods.answer(request, outcome) }
                        })
                }
            } catch {
                connection = nil
                Self.log.warning("publish: \(sent.count) publish(es) failed: \(error)")
                let failure = APIError(.unavailable, "the event store is unreachable")
                for (item, _) in sent { item.completion(.failure(failure)) }
            }
        }
    }

    /// Every request's append in one pipeline; a script Redis no longer knows (`NOSCRIPT`) is
    /// loaded and that publish run again on its own.
    private func publish(_ requests: [PublishRequest], on connection: RedisConnection) throws -> [Result<
        EventMethods.Outcome, APIError
    >] {
        let sha = try scripts.sha(EventMethods.script, on: connection)
        let commands = requests.map { EventMethods.command($0, prefix: prefix, maxLength: maxLength, scriptSHA: sha) }
        let replies = try connection.pipeline(commands, replyTimeout: timeout)
        var outcomes: [Result<EventMethods.Outcome, APIError>] = []
        outcomes.reserveCapacity(requests.count)
        for (request, reply) in zip(requests, replies) {
            if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
                // Run again on its own; a failure there fails this publish only (the others of the
                // batch are appended already). A broken connection is reopened for the next batch.
                outcomes.append(republish(request, on: connection))
                continue
            }
            outcomes.append(Result { () throws(APIError) in try EventMethods.outcome(of: reply) })
        }
        return outcomes
    }

    private func republish(_ request: PublishRequest, on connection: RedisConnection) -> Result<
        EventMethods.Outcome, APIError
    > {
        do {
            return .success(
                try EventMethods.publish(request, prefix: prefix, maxLength: maxLength, scripts: scripts, on: connection))
        } catch let error as APIError {
            return .failure(error)
        } catch {
            Self.log.warning("publish: the script's second run failed: \(error)")
            return .failure(APIError(.unavailable, "the event store is unreachable"))
        }
    }
}

/// The pipeline's queue: a lock and a condition around the waiting calls (any thread pushes;
/// the pipeline's thread takes).
private final class WaitQueue<Item>: @unchecked Sendable {
    // Sound: `items` and `closed` are only touched with `condition` locked.
    private var items = Deque<Item>()
    private var closed = false
    private let condition = NSCondition()

    /// Appends `item` unless `limit` items wait; at the limit, first removes and returns the
    /// items `isExpired` says are past use. Items expire in queue order (one timeout for all), so
    /// only the expired front is looked at. Returns whether `item` was queued.
    func push(_ item: Item, limit: Int, isExpired: (Item) -> Bool) -> (queued: Bool, expired: [Item]) {
        condition.lock()
        defer { condition.unlock() }
        var expired: [Item] = []
        if items.count >= limit {
            let count = items.prefix { isExpired($0) }.count
            expired = Array(items.prefix(count))
            items.removeFirst(count)
            if items.count >= limit { return (false, expired) }
        }
        items.append(item)
        if items.count == 1 { condition.signal() }
        return (true, expired)
    }

    /// Waits for at least one item, then takes up to `max` of them in order; nil once closed and
    /// empty.
    func take(max: Int) -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty {
            if closed { return nil }
            condition.wait()
        }
        let taken = Array(items.prefix(max))
        items.removeFirst(taken.count)
        return taken
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
