import GatewayCore
import JSONCodec
import Logging
import Prometheus
import RedisClient

/// The integrator's event methods (SPEC §14), in the one method table (REST and socket alike):
///
/// | method | route | role | params | answer |
/// |---|---|---|---|---|
/// | `events.publish` | `POST /v1/publish` | ADMIN | `topic`, `data` (object), `idempotency_key`? | `{"id","topic","duplicate"}` |
/// | `events.history` | `GET /v1/history` | VIEWER and the topic's subscribe role | `topic`, `since`?, `limit`? (1-1000, 100), `reverse`? | `{"topic","events":[{"id","data"}],"next"}` |
///
/// A publish with an idempotency key is one Lua script (`publish_event.lua`): the key's record
/// (`<prefix>idempotency:<subject>:<key>`, kept 24 h, one namespace per caller) and the append
/// happen together or not at all, so the same key sent by one caller to two gateways appends once; the second answers the first id with
/// `"duplicate": true`, and the key with another topic or data is CONFLICT. Without a key it is
/// one `XADD`. Bad input is BAD_REQUEST and appends nothing.
public enum EventMethods {
    /// Seconds an idempotency key is remembered.
    public static let idempotencyTTL = 86_400
    /// The script run for a publish with a key.
    static let script = "publish_event"
    private static let log = Logger(label: "bedrock.publish")

    /// Registers `events.publish` and `events.history` in `table`; their Redis work runs on
    /// connections of `pool`, keys under `prefix`, streams capped at `maxLength`. With `pipeline`
    /// (the Redis of `pool`), publishes are answered through a `PublishPipeline` instead of the
    /// worker pool; it is returned, to be stopped at shutdown.
    @discardableResult
    static func register(
        in table: MethodTable, pool: RedisPool, prefix: String, maxLength: Int, metrics: MetricsRegistry,
        pipeline address: RedisAddress? = nil
    ) throws -> PublishPipeline? {
        let scripts = try ScriptRunner(standalone: [script])
        let counted = PublishCounters(registry: metrics)
        var pipeline: PublishPipeline?
        if let address {
            let queue = PublishPipeline(
                address: address, prefix: prefix, maxLength: maxLength, scripts: scripts, counters: counted,
                timeout: table.callTimeout)
            table.register(
                queued: QueuedHandler(.eventsPublish) { call, completion in queue.enqueue(call, completion: completion) })
            pipeline = queue
        }
        table.register(
            MethodHandler(.eventsPublish) { call in
                MethodHandler.pooled(pool: pool, label: Method.eventsPublish.rawValue) { connection in
                    let request = try PublishRequest.parse(call.params, caller: call.subject, now: Timestamp.now())
                    let outcome = try publish(request, prefix: prefix, maxLength: maxLength, scripts: scripts, on: connection)
                    counted.count(outcome)
                    return try answer(request, outcome)
                }
            })
        table.register(
            MethodHandler(.eventsHistory) { call in
                MethodHandler.pooled(pool: pool, label: Method.eventsHistory.rawValue) { connection in
                    let request = try HistoryRequest.parse(call.params, sub: call.subject, role: call.role)
                    return try history(request, prefix: prefix, on: connection)
                }
            })
        return pipeline
    }

    /// What a publish did: appended `id`, found the key with the same content (`duplicate`, the
    /// first id), or found it with other content (`conflict`).
    enum Outcome: Equatable {
        case appended(String)
        case duplicate(String)
        case conflict
    }

    /// Appends `request`'s event, through the idempotency script when it has a key.
    static func publish(
        _ request: PublishRequest, prefix: String, maxLength: Int, scripts: ScriptRunner, on connection: RedisConnection
    ) throws -> Outcome {
        guard let key = request.idempotencyKey else {
            return .appended(
                try StreamAppend.append(
                    connection, topic: request.topic.name, eventJSON: request.eventJSON, maxLength: maxLength, prefix: prefix))
        }
        let reply = try scripts.run(
            script, keys: scriptKeys(request, key: key, prefix: prefix), args: scriptArgs(request, maxLength: maxLength),
            on: connection)
        return try outcome(of: reply)
    }

    /// The command appending `request`'s event: `XADD`, or `EVALSHA scriptSHA` of the idempotency
    /// script when it has a key (`outcome(of:)` reads either reply).
    static func command(_ request: PublishRequest, prefix: String, maxLength: Int, scriptSHA: String) -> [String] {
        guard let key = request.idempotencyKey else {
            return [
                "XADD", StreamKeys.key(prefix: prefix, topic: request.topic.name), "MAXLEN", "~", String(maxLength), "*",
                "event", request.eventJSON,
            ]
        }
        return ["EVALSHA", scriptSHA, "2"] + scriptKeys(request, key: key, prefix: prefix)
            + scriptArgs(request, maxLength: maxLength)
    }

    private static func scriptKeys(_ request: PublishRequest, key: String, prefix: String) -> [String] {
        [idempotencyKey(prefix: prefix, caller: request.caller, key), StreamKeys.key(prefix: prefix, topic: request.topic.name)]
    }

    private static func scriptArgs(_ request: PublishRequest, maxLength: Int) -> [String] {
        [String(maxLength), request.eventJSON, request.digest, String(idempotencyTTL)]
    }

    /// What an append's reply says: an `XADD`'s new id, or the script's verdict. An error reply
    /// (Redis out of memory, read-only, …) is logged and answered UNAVAILABLE without its detail.
    static func outcome(of reply: RedisReply) throws(APIError) -> Outcome {
        if case .error(let message) = reply {
            log.warning("publish: the append was refused by Redis: \(message)")
            throw APIError(.unavailable, "the event store refused the append; try again shortly")
        }
        if let id = reply.string { return .appended(id) }
        guard let parts = reply.array, parts.count == 2, let status = parts[0].string, let id = parts[1].string else {
            log.error("publish: unexpected reply to an append: \(reply)")
            throw APIError(.internal, "unexpected reply from the event store")
        }
        switch status {
        case "appended": return .appended(id)
        case "duplicate": return .duplicate(id)
        default: return .conflict
        }
    }

    /// `<prefix>idempotency:<caller>:<key>`: keys are remembered per caller (its subject). In the
    /// subject `%` is written `%25` and `:` `%3A`, so the first `:` after it ends it: subject `a`
    /// with key `b:c` and subject `a:b` with key `c` are two records.
    static func idempotencyKey(prefix: String, caller: String, _ key: String) -> String {
        var subject = ""
        subject.reserveCapacity(caller.utf8.count)
        for character in caller {
            switch character {
            case "%": subject += "%25"
            case ":": subject += "%3A"
            default: subject.append(character)
            }
        }
        return prefix + "idempotency:" + subject + ":" + key
    }

    /// The answer to a publish that came out as `outcome` (CONFLICT for a reused key).
    static func answer(_ request: PublishRequest, _ outcome: Outcome) throws(APIError) -> JSONValue {
        switch outcome {
        case .appended(let id):
            return ["id": .string(id), "topic": .string(request.topic.name), "duplicate": false]
        case .duplicate(let id):
            return ["id": .string(id), "topic": .string(request.topic.name), "duplicate": true]
        case .conflict:
            throw APIError(
                .conflict, "idempotency_key was used in the last 24 h with another topic or data; use a new key")
        }
    }

    /// The page `request` asks for: `{"topic", "events": [{"id", "data"}], "next"}`; an entry whose
    /// `event` is not a JSON object is left out. `next` is the last id read when the page is full
    /// (`limit` entries read, kept or not: pass it as `since` for the next page), null at the end;
    /// a page may hold fewer events than `limit`, even none, while `next` is not null.
    static func history(_ request: HistoryRequest, prefix: String, on connection: RedisConnection) throws -> JSONValue {
        guard let command = request.command(prefix: prefix) else {
            return ["topic": .string(request.answerTopic), "events": [], "next": .null]
        }
        let entries = try connection.command(command).checked().array ?? []
        var events: [JSONValue] = []
        var last: String?
        for entry in entries {
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
            last = id
            guard let data = eventObject(parts[1]) else { continue }
            events.append(["id": .string(id), "data": .object(data)])
        }
        let next: JSONValue = entries.count >= request.limit ? last.map(JSONValue.string) ?? .null : .null
        return ["topic": .string(request.answerTopic), "events": .array(events), "next": next]
    }

    /// The JSON object in an entry's `event` field, nil when it has none.
    private static func eventObject(_ fields: RedisReply) -> JSONObject? {
        guard let list = fields.array else { return nil }
        var index = 0
        while index + 1 < list.count {
            if list[index].string == "event", let text = list[index + 1].string {
                return (try? JSONCodec.parse(text))?.objectValue
            }
            index += 2
        }
        return nil
    }
}

/// `bedrock_publish_total{result="appended"|"duplicate"}`, bound once.
struct PublishCounters: Sendable {
    private let appended: Counter
    private let duplicate: Counter

    init(registry: MetricsRegistry) {
        let help = "Publishes through the API: events appended, and repeats of an idempotency key answered without appending."
        appended = registry.counter("bedrock_publish_total", help: help, labels: [("result", "appended")])
        duplicate = registry.counter("bedrock_publish_total", help: help, labels: [("result", "duplicate")])
    }

    func count(_ outcome: EventMethods.Outcome) {
        switch outcome {
        case .appended: appended.increment()
        case .duplicate: duplicate.increment()
        case .conflict: break
        }
    }
}
