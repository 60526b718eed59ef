/// Where the gateway's Redis lives (`redis.url`, SPEC §3).
///
/// Accepted forms:
/// - `embedded` — a private `redis-server` child on `<data_dir>/redis.sock`;
/// - `redis://[:password@]host[:port][/db]` — TCP; port defaults to 6379, db to 0; the password
///   may be percent-encoded; an IPv6 host is written in brackets (`redis://[::1]:6379`);
///   `default:password@` (the Redis 6 default user) is also accepted;
/// - `unix:///absolute/path[?db=N&password=P]` — a unix socket.
///
/// `rediss://` (TLS) and other schemes are refused.
public enum RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    case embedded
    case tcp(host: String, port: Int, password: String?, db: Int)
    case unix(path: String, password: String?, db: Int)

    /// A human form with the password masked, safe for logs.
    public var description: String {
        switch self {
        case .embedded: return "embedded"
        case let .tcp(host, port, password, db):
            let h = host.contains(":") ? "[\(host)]" : host
            return "redis://\(password == nil ? "" : ":***@")\(h):\(port)/\(db)"
        case let .unix(path, password, db):
            return "unix://\(path)?db=\(db)\(password == nil ? "" : "&password=***")"
        }
    }

    /// Parses a `redis.url` value. The error string says what is wrong (without the key).
    public static func parse(_ url: String) -> Result<RedisEndpoint, RedisURLError> {
        if url == "embedded" { return .success(.embedded) }
        if url.hasPrefix("redis://") { return parseTCP(String(url.dropFirst("redis://".count))) }
        if url.hasPrefix("unix://") { return parseUnix(String(url.dropFirst("unix://".count))) }
        return .failure(RedisURLError("must be \"embedded\", redis://[:password@]host:port[/db] or unix:///path"))
    }

    private static func parseTCP(_ rest0: String) -> Result<RedisEndpoint, RedisURLError> {
        var rest = Substring(rest0)
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else {
                return .failure(RedisURLError("password must be written as redis://:password@host"))
            }
            let user = userinfo[..<colon]
            guard user.isEmpty || user == "default" else {
                return .failure(RedisURLError("user names other than \"default\" are not supported"))
            }
            guard let pw = percentDecode(userinfo[userinfo.index(after: colon)...]), !pw.isEmpty else {
                return .failure(RedisURLError("bad password encoding"))
            }
            password = pw
        }
        var db = 0
        if let slash = rest.firstIndex(of: "/") {
            let dbPart = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !dbPart.isEmpty {
                guard let n = Int(dbPart), n >= 0, n <= 1_000_000 else {
                    return .failure(RedisURLError("database must be a non-negative integer"))
                }
                db = n
            }
        }
        var host: Substring
        var portPart: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(RedisURLError("unclosed [ in host")) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(RedisURLError("unexpected text after host")) }
                portPart = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "?" || $0 == "#" }) else {
            return .failure(RedisURLError("missing or bad host"))
        }
        var port = 6379
        if let portPart {
            guard let p = Int(portPart), (1...65535).contains(p) else {
                return .failure(RedisURLError("port must be an integer 1-65535"))
            }
            port = p
        }
        return .success(.tcp(host: String(host), port: port, password: password, db: db))
    }

    private static func parseUnix(_ rest: String) -> Result<RedisEndpoint, RedisURLError> {
        var path = Substring(rest)
        var password: String?
        var db = 0
        if let q = path.firstIndex(of: "?") {
            let query = path[path.index(after: q)...]
            path = path[..<q]
            for pair in query.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2 else { return .failure(RedisURLError("bad query parameter \"\(pair)\"")) }
                switch kv[0] {
                case "db":
                    guard let n = Int(kv[1]), n >= 0 else {
                        return .failure(RedisURLError("database must be a non-negative integer"))
                    }
                    db = n
                case "password":
                    guard let pw = percentDecode(kv[1]), !pw.isEmpty else {
                        return .failure(RedisURLError("bad password encoding"))
                    }
                    password = pw
                default:
                    return .failure(RedisURLError("unknown query parameter \"\(kv[0])\" (db, password)"))
                }
            }
        }
        guard path.hasPrefix("/"), path.count > 1 else {
            return .failure(RedisURLError("unix socket path must be absolute: unix:///path/to/redis.sock"))
        }
        return .success(.unix(path: String(path), password: password, db: db))
    }

    /// Decodes `%XX` escapes; `nil` on a malformed escape or invalid UTF-8.
    static func percentDecode(_ s: Substring) -> String? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b != UInt8(ascii: "%") { out.append(b); continue }
            guard it.count >= 2, let hi = hexValue(it.popFirst()!), let lo = hexValue(it.popFirst()!) else { return nil }
            out.append(hi << 4 | lo)
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Why a Redis URL was refused.
public struct RedisURLError: Error, Sendable, Equatable {
    /// What is wrong, without the key name.
    public let message: String
    init(_ message: String) { self.message = message }
}
