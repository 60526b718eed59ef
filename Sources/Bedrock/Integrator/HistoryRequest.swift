import GatewayCore
import JSONCodec
import JWTAuth

/// A checked `events.history` call (`GET /v1/history?topic=&since=&limit=&reverse=`): which
/// stream, from where, how many, which way.
public struct HistoryRequest: Sendable, Equatable {
    /// The topic as answered (`user` for the caller's own stream).
    public let answerTopic: String
    /// The topic whose stream is read (`user:<sub>` for a user's).
    public let streamTopic: String
    /// Exclusive bound: events after it (before it with `reverse`); nil: from the start (the end).
    public let since: StreamID?
    public let limit: Int
    public let reverse: Bool

    /// The most events one call answers.
    public static let maxLimit = 1000
    /// Events answered when `limit` is absent.
    public static let defaultLimit = 100

    /// Checks `params` for a caller `sub` with `role`: BAD_REQUEST for a bad topic, id, limit or
    /// flag; FORBIDDEN when the role may not subscribe to the topic (`user` is the caller's own;
    /// another user's stream, `user:<sub>`, is for ADMIN only).
    public static func parse(_ params: JSONObject, sub: String, role: Role) throws(APIError) -> HistoryRequest {
        guard let name = params["topic"]?.stringValue else { throw APIError(.badRequest, "topic must be a string") }
        let answerTopic: String, streamTopic: String
        if name == Topic.user.name {
            answerTopic = name
            streamTopic = UserEvents.topicName(sub: sub)
        } else {
            guard let topic = EventTopic(name) else { throw EventTopic.unknown(name) }
            if let shared = topic.shared {
                guard TopicACL.canSubscribe(role: role, topic: shared) else {
                    throw APIError(.forbidden, "role \(role.rawValue) may not read \(topic.name)")
                }
            } else if role != .admin {
                throw APIError(.forbidden, "only ADMIN may read another user's events; use topic user for your own")
            }
            answerTopic = topic.name
            streamTopic = topic.name
        }
        return HistoryRequest(
            answerTopic: answerTopic, streamTopic: streamTopic, since: try since(params["since"]),
            limit: try limit(params["limit"]), reverse: try flag(params["reverse"], "reverse"))
    }

    private static func since(_ value: JSONValue?) throws(APIError) -> StreamID? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)? where text.isEmpty: return nil
        case .string(let text)?:
            guard let id = StreamID(text) else {
                throw APIError(.badRequest, "since must be a stream id like 1700000000000-0, got \"\(text)\"")
            }
            return id
        default: throw APIError(.badRequest, "since must be a stream id like 1700000000000-0")
        }
    }

    private static func limit(_ value: JSONValue?) throws(APIError) -> Int {
        let number: Int64?
        switch value {
        case nil, .null?: return defaultLimit
        case .string(let text)? where text.isEmpty: return defaultLimit
        case .string(let text)?: number = Int64(text)
        case let other?: number = other.intValue
        }
        guard let number, number >= 1, number <= Int64(maxLimit) else {
            throw APIError(.badRequest, "limit must be a whole number from 1 to \(maxLimit)")
        }
        return Int(number)
    }

    private static func flag(_ value: JSONValue?, _ name: String) throws(APIError) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let b)?: return b
        case .string("true")?: return true
        case .string("false")?, .string("")?: return false
        default: throw APIError(.badRequest, "\(name) must be true or false")
        }
    }

    /// The Redis command reading the page: `XRANGE key (since + COUNT n`, or `XREVRANGE key
    /// (since - COUNT n` with `reverse`; nil when no entry can lie beyond `since` that way (the
    /// answer is empty).
    func command(prefix: String) -> [String]? {
        let key = StreamKeys.key(prefix: prefix, topic: streamTopic)
        let count = ["COUNT", String(limit)]
        if reverse {
            guard let since else { return ["XREVRANGE", key, "+", "-"] + count }
            guard since > .zero else { return nil }
            return ["XREVRANGE", key, "(\(since)", "-"] + count
        }
        guard let since else { return ["XRANGE", key, "-", "+"] + count }
        guard since < StreamID(ms: .max, seq: .max) else { return nil }
        return ["XRANGE", key, "(\(since)", "+"] + count
    }
}
