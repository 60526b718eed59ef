/// WebSocket close codes of SPEC §5.
///
/// | code | case             | reason text sent in the close frame        |
/// |------|------------------|--------------------------------------------|
/// | 1001 | `goingAway`      | `server shutting down`                     |
/// | 1009 | `tooLarge`       | `frame too large`                          |
/// | 4401 | `unauthenticated`| `unauthenticated or token expired`         |
/// | 4403 | `forbidden`      | `forbidden`                                |
/// | 4408 | `heartbeatTimeout`| `heartbeat timeout`                       |
/// | 4429 | `rateLimited`    | `rate limited`                             |
/// | 4503 | `atCapacity`     | `server at connection limit`               |
///
/// Reason texts are ASCII and well under the 123-byte limit of a close frame payload.
public enum CloseCode: UInt16, Sendable, CaseIterable, Hashable {
    case goingAway = 1001
    case tooLarge = 1009
    case unauthenticated = 4401
    case forbidden = 4403
    case heartbeatTimeout = 4408
    case rateLimited = 4429
    case atCapacity = 4503

    /// Short human reason placed in the close frame after the code.
    public var reason: String {
        switch self {
        case .goingAway: return "server shutting down"
        case .tooLarge: return "frame too large"
        case .unauthenticated: return "unauthenticated or token expired"
        case .forbidden: return "forbidden"
        case .heartbeatTimeout: return "heartbeat timeout"
        case .rateLimited: return "rate limited"
        case .atCapacity: return "server at connection limit"
        }
    }
}
