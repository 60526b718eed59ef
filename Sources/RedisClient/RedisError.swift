/// Everything that can go wrong talking to Redis.
///
/// After `.connect`, `.io` or `.protocolError` the connection is unusable: drop it and open a new
/// one. `.server` is an error reply (`-ERR …`) and leaves the connection usable.
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

    /// True when the connection that raised this error must be discarded.
    public var breaksConnection: Bool {
        switch self {
        case .connect, .io, .protocolError: return true
        default: return false
        }
    }
}
