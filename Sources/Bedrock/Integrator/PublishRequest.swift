import Digests
import JSONCodec
import JWTAuth

/// Where an integrator's event goes: a topic subscribers name (`signals`, `klines:BTCUSDT:1m`, …)
/// or one user's stream (`user:<sub>`, the addressed form of the `user` topic).
public struct EventTopic: Sendable, Equatable {
    /// The name as answered: a topic's canonical name, or `user:<sub>`.
    public let name: String
    /// The sub of an addressed topic; nil for a shared topic.
    public let user: String?
    /// The shared topic; nil for `user:<sub>`.
    public let shared: Topic?

    /// The longest `sub` accepted in `user:<sub>`.
    public static let maxSubLength = 200

    /// Parses `name`; nil when it is neither a topic a subscriber can use nor `user:<sub>` with a
    /// sub of 1…200 characters and no control characters. The bare `user` (which means "mine" to a
    /// subscriber) is refused: an event is addressed to one user by name.
    public init?(_ name: String) {
        if name.hasPrefix("user:") {
            let sub = String(name.dropFirst(5))
            guard Self.isValidSub(sub) else { return nil }
            self.init(user: sub)
            return
        }
        guard let topic = Topic(name), topic != .user else { return nil }
        self.init(name: topic.name, user: nil, shared: topic)
    }

    /// The stream of `sub`'s own events.
    public init(user sub: String) {
        self.init(name: UserEvents.topicName(sub: sub), user: sub, shared: nil)
    }

    private init(name: String, user: String?, shared: Topic?) {
        self.name = name
        self.user = user
        self.shared = shared
    }

    /// Whether `sub` may be addressed: 1…200 characters, none of them a control character.
    static func isValidSub(_ sub: String) -> Bool {
        !sub.isEmpty && sub.count <= maxSubLength && !sub.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// What a bad topic name answers.
    static func unknown(_ name: String) -> APIError {
        APIError(
            .badRequest,
            "unknown topic \"\(name)\": use signals, portfolio, risk, opportunities, models, news, klines:MARKET:INTERVAL or user:SUB"
        )
    }
}

/// A checked `events.publish` call (`POST /v1/publish`): the topic, the event to store (the
/// caller's `data` with the envelope added) and the idempotency key with the digest it guards.
public struct PublishRequest: Sendable {
    public let topic: EventTopic
    /// The event JSON text appended: `data` with `event_type` ("message"), `schema_version`
    /// ("2.0") and `timestamp` added where missing.
    public let eventJSON: String
    /// The caller's idempotency key, when it sent one.
    public let idempotencyKey: String?
    /// Who publishes (the caller's `subject`): idempotency keys are remembered per caller, so two
    /// integrators using the same key do not collide, and one integrator's key holds on every gateway.
    public let caller: String
    /// Hex SHA-256 of the topic and the data as sent (before the envelope): the same key with
    /// another digest is a conflict. Empty without a key (nothing to guard).
    public let digest: String

    /// The largest `data`, encoded.
    public static let maxDataBytes = 64 * 1024
    /// The longest idempotency key.
    public static let maxKeyLength = 200

    /// Checks `params` (`topic`, `data`, `idempotency_key`?) sent by `caller` (its subject);
    /// BAD_REQUEST naming what is wrong.
    public static func parse(_ params: JSONObject, caller: String, now: String) throws(APIError) -> PublishRequest {
        guard let name = params["topic"]?.stringValue else {
            throw APIError(.badRequest, "topic must be a string")
        }
        guard let topic = EventTopic(name) else { throw EventTopic.unknown(name) }
        guard let data = params["data"]?.objectValue else {
            throw APIError(.badRequest, "data must be a JSON object")
        }
        let dataBytes = JSONCodec.encode(.object(data))
        guard dataBytes.count <= maxDataBytes else {
            throw APIError(.badRequest, "data is \(dataBytes.count) bytes encoded; at most \(maxDataBytes)")
        }
        var key: String?
        switch params["idempotency_key"] {
        case nil, .null?: key = nil
        case .string(let text)?:
            guard isValidKey(text) else {
                throw APIError(.badRequest, "idempotency_key must be 1-\(maxKeyLength) printable ASCII characters")
            }
            key = text
        default: throw APIError(.badRequest, "idempotency_key must be a string")
        }
        var digest = ""
        if key != nil {
            var digested = Array(topic.name.utf8)
            digested.append(0)
            digested.append(contentsOf: dataBytes)
            digest = SHA256.hex(digested)
        }
        let event = UserEvents.envelope(data, eventType: "message", now: now)
        return PublishRequest(
            topic: topic, eventJSON: JSONCodec.encodeString(.object(event)), idempotencyKey: key, caller: caller,
            digest: digest)
    }

    /// 1…200 characters from space to `~`.
    static func isValidKey(_ key: String) -> Bool {
        let bytes = key.utf8
        return !bytes.isEmpty && bytes.count <= maxKeyLength && bytes.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
    }
}
