/// A Redis reply copied out of hiredis' `redisReply` tree (which is freed right after copying).
public enum RedisReply: Sendable, Equatable {
    /// `+OK`-style status line.
    case status(String)
    /// `-ERR …` error reply.
    case error(String)
    /// `:42`.
    case integer(Int64)
    /// A bulk string, binary-safe.
    case bulk([UInt8])
    /// A multi-bulk array.
    case array([RedisReply])
    /// The nil bulk or nil array (for example XREAD timing out).
    case null

    /// The text of a status or bulk reply (bulk decoded as UTF-8, invalid bytes repaired).
    public var string: String? {
        switch self {
        case .status(let s): return s
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// The integer of an integer reply, or of a bulk/status reply holding decimal digits.
    public var integer: Int64? {
        switch self {
        case .integer(let i): return i
        case .bulk, .status: return string.flatMap { Int64($0) }
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// True for the nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Returns self, or throws `.server` for an error reply.
    public func checked() throws(RedisError) -> RedisReply {
        if case .error(let message) = self { throw .server(message) }
        return self
    }
}
