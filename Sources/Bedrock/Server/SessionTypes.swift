import GatewayCore
import JWTAuth

/// Who a connection is, once its token checked out.
struct Identity: Sendable, Equatable {
    var subject: String
    var role: Role
    /// Token expiry, seconds since the epoch.
    var expiresAt: Double
}

/// Per-connection limits and timings, from configuration.
struct SessionLimits: Sendable {
    var heartbeatInterval: Double = 30
    var heartbeatTimeout: Double = 90
    var authTimeout: Double = 5
    var maxFrameBytes: Int = 65536
    var messagesPerSecond: Double = 50
    var messageBurst: Double = 100
    var sendQueueMax: Int = 1024
}

/// What the session machine asks its owner (the gateway) to do.
enum SessionAction: Equatable {
    /// Queue this frame for the client.
    case send(JSONValue)
    /// Close the connection with this code.
    case close(CloseCode, String)
    /// The connection authenticated (first time): the gateway counts it and sends `welcome`.
    case authenticated
    /// Subscribe after ACL passed; the gateway resolves the position and replays.
    case subscribe(id: JSONValue, topic: Topic, since: String?)
    /// Remove a subscription.
    case unsubscribe(id: JSONValue, topic: Topic)
    /// Run a method of the method table (which checks the caller's role).
    case request(id: JSONValue, method: Method, params: JSONObject)
}

/// Why a token was refused, in words a client can act on.
struct AuthRefusal: Error, Sendable, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
