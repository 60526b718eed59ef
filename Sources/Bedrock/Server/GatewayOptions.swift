import Transport

/// Everything `Gateway` needs from configuration, already validated.
public struct GatewayOptions: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var publicDir: String = "public"
    public var heartbeatInterval: Double = 30
    public var heartbeatTimeout: Double = 90
    public var authTimeout: Double = 5
    public var maxFrameBytes: Int = 65536
    public var maxConnections: Int = 20000
    public var messagesPerSecond: Double = 50
    public var messageBurst: Double = 100
    public var sendQueueMax: Int = 1024
    public var corsOrigins: [String] = []
    public var tlsCertPath: String?
    public var tlsKeyPath: String?
    /// `dev` or `production`.
    public var mode: String = "production"

    public init() {}

    var limits: SessionLimits {
        SessionLimits(heartbeatInterval: heartbeatInterval, heartbeatTimeout: heartbeatTimeout,
                      authTimeout: authTimeout, maxFrameBytes: maxFrameBytes,
                      messagesPerSecond: messagesPerSecond, messageBurst: messageBurst, sendQueueMax: sendQueueMax)
    }

    var serverSettings: LWSServerSettings {
        LWSServerSettings(host: host, port: port, tlsCertPath: tlsCertPath, tlsKeyPath: tlsKeyPath,
                          maxConnections: maxConnections)
    }
}
