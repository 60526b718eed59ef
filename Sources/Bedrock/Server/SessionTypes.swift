import GatewayCore
import JSONCodec
import JWTAuth

/// Who a connection is, once its token checked out.
struct Identity: Sendable, Equatable {
    var subject: String
    var role: Role
    /// Token expiry, seconds since the epoch.
    var expiresAt: Double
    /// The token's `iat` (seconds since the epoch), when it had one: what revocation compares.
    var issuedAt: Double? = nil
    /// The name of the API key (`api.keys`) the caller used, for REST calls made with
    /// `Authorization: ApiKey`; nil for a JWT. Logged instead of the key, never the key itself.
    var apiKeyName: String? = nil
}

/// Per-connection limits and timings, from configuration (`server.*`, where their defaults are).
struct SessionLimits: Sendable {
    var heartbeatInterval: Double
    var heartbeatTimeout: Double
    var authTimeout: Double
    var maxFrameBytes: Int
    var messagesPerSecond: Double
    var messageBurst: Double
    var sendQueueMax: Int
    /// Topics one connection may hold at once (`server.max_subscriptions_per_connection`).
    var maxTopics: Int
    /// Seconds' worth of the message rate that refused messages (beyond the rate itself, which is
    /// forgiven) may add up to before the connection is closed with 4429 (`MessageRateGuard`).
    var rateWindow: Double = 5

    /// The limits `server` configures.
    init(_ server: GatewayConfig.Server) {
        heartbeatInterval = server.heartbeatIntervalS
        heartbeatTimeout = server.heartbeatTimeoutS
        authTimeout = server.authTimeoutS
        maxFrameBytes = server.maxFrameBytes
        messagesPerSecond = server.rateLimitPerS
        messageBurst = Double(server.rateLimitBurst)
        sendQueueMax = server.sendQueueMax
        maxTopics = server.maxSubscriptionsPerConnection
    }
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
    /// Remove a subscription (at once: no event of `topic` reaches the client after it).
    case unsubscribe(id: JSONValue, topic: Topic)
    /// Run a method of the method table (which checks the caller's role).
    case request(id: JSONValue, method: Method, params: JSONObject)
}

/// Why a token was refused, in words a client can act on.
struct AuthRefusal: Error, Sendable, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
