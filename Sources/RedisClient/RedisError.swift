/// Everything that can go wrong talking to Redis.
///
/// After `.connect`, `.io` or `.protocolError` the connection is unusable: drop it and open a new
/// one. `.server` is an error reply (`-ERR …`) and leaves the connection usable, except one saying
/// the server is no longer a usable master (`isFailoverReply`): that connection is dropped too.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection could not be opened, or AUTH/SELECT failed while opening it.
    case connect(String)
    /// The socket failed, timed out or was closed by the server.
    case io(String)
    /// The server sent something hiredis could not parse.
    case protocolError(String)
    /// The server answered with an error reply.
    case server(String)
    /// The reply did not have the shape the caller expected.
    case unexpectedReply(String)
    /// A caller-supplied argument was invalid (for example a malformed stream id).
    case invalidArgument(String)
    /// `redis-server` could not be started or stopped.
    case embedded(String)

    /// One line for logs and error messages.
    public var description: String {
        switch self {
        case .connect(let m): return "redis connect failed: \(m)"
        case .io(let m): return "redis connection lost: \(m)"
        case .protocolError(let m): return "redis protocol error: \(m)"
        case .server(let m): return "redis error reply: \(m)"
        case .unexpectedReply(let m): return "unexpected redis reply: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .embedded(let m): return m
        }
    }

    /// The `.io` message of a reply that did not arrive within the socket timeout.
    public static let readTimedOut = "read timed out"

    /// True when the connection that raised this error must be discarded.
    public var breaksConnection: Bool {
        switch self {
        case .connect, .io, .protocolError: return true
        case .server(let message): return RedisError.isFailoverReply(message)
        default: return false
        }
    }

    /// Error-reply codes of a server that stopped being a usable master: a replica refusing a
    /// write (`READONLY`, also from inside a script), a replica cut off from its master
    /// (`MASTERDOWN`), a blocked command released because the server changed role (`UNBLOCKED`).
    /// After a Sentinel failover the old master answers these; a fresh connection finds the new one.
    public static let failoverReplyCodes = ["READONLY", "MASTERDOWN", "UNBLOCKED"]

    /// True when an error reply's text starts with one of `failoverReplyCodes`.
    public static func isFailoverReply(_ message: String) -> Bool {
        failoverReplyCodes.contains { message.hasPrefix($0 + " ") }
    }
}
