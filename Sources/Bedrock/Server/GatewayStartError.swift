/// Why the gateway could not start (exit 1 with this message).
public struct GatewayStartError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
