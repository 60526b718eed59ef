import Foundation
import GatewayCore
import JSONCodec
import JWTAuth
import Logging

/// The per-connection protocol of SPEC §5 as a plain state machine: frames and clock readings
/// in, actions out. No sockets, no lws, no clock of its own: unit-tested on its own. Deadlines
/// (authentication, heartbeat, rate window) run on the monotonic reading; only token expiry is
/// compared with wall time. Lives on the service thread.
final class SessionMachine {
    /// Public session id sent in `welcome`.
    let sessionID: String
    let limits: SessionLimits
    private let authenticate: (String) -> Result<Identity, AuthRefusal>
    private(set) var identity: Identity?
    private let authDeadline: Double
    private(set) var lastHeard: Double
    private var nextPing: Double
    private var rate: MessageRateGuard
    private var errorCounter = 0
    /// Every error frame is logged (SPEC §13).
    private static let log = Logger(label: "bedrock.session")
    /// Topics this connection holds, by name (the loop's `TopicRouter` knows where each stands).
    private(set) var subscriptions: Set<String> = []

    init(
        sessionID: String, limits: SessionLimits, at start: ClockReading, identity: Identity?,
        authenticate: @escaping (String) -> Result<Identity, AuthRefusal>
    ) {
        let now = start.monotonic
        self.sessionID = sessionID
        self.limits = limits
        self.authenticate = authenticate
        self.identity = identity
        authDeadline = now + limits.authTimeout
        lastHeard = now
        nextPing = now + limits.heartbeatInterval
        rate = MessageRateGuard(
            rate: limits.messagesPerSecond, burst: limits.messageBurst, window: limits.rateWindow, now: now)
    }

    /// The `welcome` frame for the current identity.
    func welcome() -> JSONValue {
        guard let identity else { return .null }
        return .object([
            "type": "welcome", "session_id": .string(sessionID), "sub": .string(identity.subject),
            "role": .string(identity.role.rawValue),
            "heartbeat_s": limits.heartbeatInterval.rounded() == limits.heartbeatInterval
                ? .int(Int64(limits.heartbeatInterval)) : .double(limits.heartbeatInterval),
            "expires_at": .string(Timestamp.rfc3339(seconds: identity.expiresAt)),
        ])
    }

    /// An `error` frame (with a failed call's `details` when it has some); the connection stays open.
    func errorFrame(_ code: ErrorCode, _ message: String, id: JSONValue? = nil, details: JSONObject? = nil) -> JSONValue {
        errorCounter += 1
        var object: JSONObject = ["type": "error"]
        if let id { object["id"] = id }
        object["error_code"] = .string(code.rawValue)
        object["message"] = .string(message)
        object["timestamp"] = .string(Timestamp.now())
        object["request_id"] = .string("\(sessionID)-\(errorCounter)")
        if let details { object["details"] = .object(details) }
        if SessionMachine.log.logLevel <= .info {
            SessionMachine.log.info(
                "ws error",
                metadata: [
                    "session_id": .string(sessionID), "sub": .string(identity?.subject ?? ""), "code": .string(code.rawValue),
                    "message": .string(message), "request_id": .string("\(sessionID)-\(errorCounter)"),
                ])
        }
        return .object(object)
    }

    /// One complete text message from the client.
    func receive(_ text: UnsafeRawBufferPointer, at reading: ClockReading) -> [SessionAction] {
        let now = reading.monotonic
        lastHeard = now
        switch rate.admit(now: now) {
        case .pass:
            break
        case .refuse(let first):
            return first
                ? [.send(errorFrame(.rateLimited, "more than \(Int(limits.messagesPerSecond)) messages/s; message dropped"))]
                : []
        case .close:
            return [.close(.rateLimited, "message rate over \(Int(limits.messagesPerSecond))/s, sustained")]
        }
        let document: JSONValue
        do { document = try JSONCodec.parse(text) } catch {
            return identity == nil
                ? [.close(.unauthenticated, "authenticate first")]
                : [.send(errorFrame(.badRequest, "\(error)"))]
        }
        guard let object = document.objectValue, let type = object["type"]?.stringValue else {
            return identity == nil
                ? [.close(.unauthenticated, "authenticate first")]
                : [.send(errorFrame(.badRequest, "a frame is a JSON object with a string \"type\""))]
        }
        if type == "auth" { return handleAuth(object) }
        guard let identity else { return [.close(.unauthenticated, "authenticate first")] }
        switch type {
        case "ping": return [.send(["type": "pong"])]
        case "pong": return []
        case "subscribe": return handleSubscribe(object, role: identity.role)
        case "unsubscribe": return handleUnsubscribe(object)
        case "request": return handleRequest(object)
        default:
            return [.send(errorFrame(.badRequest, "unknown frame type \"\(type)\"", id: object["id"]))]
        }
    }

    /// Clock tick: auth deadline, token expiry, heartbeat ping and timeout.
    func tick(at reading: ClockReading) -> [SessionAction] {
        let now = reading.monotonic
        guard let identity else {
            return now >= authDeadline ? [.close(.unauthenticated, "no authentication within \(Int(limits.authTimeout)) s")] : []
        }
        if reading.wall >= identity.expiresAt { return [.close(.unauthenticated, "token expired")] }
        if now - lastHeard >= limits.heartbeatTimeout {
            return [.close(.heartbeatTimeout, "no message for \(Int(limits.heartbeatTimeout)) s")]
        }
        if now >= nextPing {
            nextPing = now + limits.heartbeatInterval
            return [.send(["type": "ping"])]
        }
        return []
    }

    private func handleAuth(_ object: JSONObject) -> [SessionAction] {
        guard let token = object["token"]?.stringValue else {
            return identity == nil
                ? [.close(.unauthenticated, "auth frame without a token")]
                : [.send(errorFrame(.badRequest, "auth needs a string \"token\""))]
        }
        switch authenticate(token) {
        case .failure(let refusal):
            return identity == nil
                ? [.close(.unauthenticated, refusal.reason)]
                : [.send(errorFrame(.unauthenticated, "token refresh refused: \(refusal.reason)"))]
        case .success(let fresh):
            if let current = identity {
                guard current.subject == fresh.subject else {
                    return [.send(errorFrame(.forbidden, "token refresh must keep the same subject"))]
                }
                identity = fresh
                return revokeForbidden(role: fresh.role) + [.send(welcome())]
            }
            identity = fresh
            return [.authenticated, .send(welcome())]
        }
    }

    private func handleSubscribe(_ object: JSONObject, role: Role) -> [SessionAction] {
        let id = object["id"] ?? .null
        guard let name = object["topic"]?.stringValue else {
            return [.send(errorFrame(.badRequest, "subscribe needs a string \"topic\"", id: id))]
        }
        guard let topic = Topic(name) else {
            return [
                .send(
                    errorFrame(
                        .badRequest,
                        "unknown topic \"\(name)\": use signals, portfolio, risk, opportunities or klines:MARKET:INTERVAL", id: id
                    ))
            ]
        }
        guard TopicACL.canSubscribe(role: role, topic: topic) else {
            return [.send(errorFrame(.forbidden, "role \(role.rawValue) may not subscribe to \(name)", id: id))]
        }
        var since: String?
        if let value = object["since"], !value.isNull {
            guard let text = value.stringValue, text == "$" || text == "0" || StreamID(text) != nil else {
                return [
                    .send(errorFrame(.badRequest, "\"since\" must be \"$\", \"0\" or a stream id like 1700000000000-0", id: id))
                ]
            }
            since = text == "$" ? nil : text
        }
        guard !subscriptions.contains(topic.name) else {
            return [.send(errorFrame(.conflict, "already subscribed to \(topic.name)", id: id))]
        }
        guard subscriptions.count < limits.maxTopics else {
            return [
                .send(
                    errorFrame(
                        .rateLimited,
                        "this connection holds \(limits.maxTopics) subscriptions, the most it may (server.max_subscriptions_per_connection); unsubscribe one first",
                        id: id))
            ]
        }
        subscriptions.insert(topic.name)
        return [.subscribe(id: id, topic: topic, since: since)]
    }

    private func handleUnsubscribe(_ object: JSONObject) -> [SessionAction] {
        let id = object["id"] ?? .null
        guard let name = object["topic"]?.stringValue, let topic = Topic(name) else {
            return [.send(errorFrame(.badRequest, "unsubscribe needs a valid \"topic\"", id: id))]
        }
        subscriptions.remove(topic.name)
        return [
            .unsubscribe(id: id, topic: topic),
            .send(["type": "unsubscribed", "id": id, "topic": .string(topic.name)]),
        ]
    }

    /// After a token refresh: end every subscription `role` may not hold, each with an
    /// `unsubscribed` frame (no `id`: the client did not ask) whose `reason` is `forbidden`. The
    /// router forgets the topic before the loop carries out anything else, so no event of it
    /// (live or from a replay still in flight) reaches the client afterwards.
    private func revokeForbidden(role: Role) -> [SessionAction] {
        var actions: [SessionAction] = []
        for name in subscriptions.sorted() {
            guard let topic = Topic(name), !TopicACL.canSubscribe(role: role, topic: topic) else { continue }
            subscriptions.remove(name)
            actions.append(.unsubscribe(id: .null, topic: topic))
            actions.append(.send(["type": "unsubscribed", "topic": .string(name), "reason": "forbidden"]))
        }
        return actions
    }

    /// The subscription to `topic` ended on the gateway's side (its replay failed).
    func forget(topic: String) { subscriptions.remove(topic) }

    private func handleRequest(_ object: JSONObject) -> [SessionAction] {
        let id = object["id"] ?? .null
        guard let name = object["method"]?.stringValue else {
            return [.send(errorFrame(.badRequest, "request needs a string \"method\"", id: id))]
        }
        var params = JSONObject()
        if let value = object["params"], !value.isNull {
            guard let given = value.objectValue else {
                return [.send(errorFrame(.badRequest, "\"params\" must be an object", id: id))]
            }
            params = given
        }
        guard let method = Method(rawValue: name) else {
            return [.send(errorFrame(.notFound, "unknown method \"\(name)\"", id: id))]
        }
        return [.request(id: id, method: method, params: params)]  // the method table checks the role
    }
}
