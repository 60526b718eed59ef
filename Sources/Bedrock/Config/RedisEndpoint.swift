import RedisClient

/// Where the gateway's Redis lives (`redis.url`, SPEC §3 and §13).
///
/// Accepted forms:
/// - `embedded` — a private `redis-server` child on `<data_dir>/redis.sock`;
/// - `redis://[:password@]host[:port][/db]` — TCP; port defaults to 6379, db to 0; the password
///   may be percent-encoded; an IPv6 host is written in brackets (`redis://[::1]:6379`);
///   `default:password@` (the Redis 6 default user) is also accepted;
/// - `unix:///absolute/path[?db=N&password=P]` — a unix socket;
/// - `redis-sentinel://host[:port][,host[:port]...]/MASTER[?db=N&password=P&sentinel_password=S]`
///   — the master Redis Sentinel names `MASTER`, asked anew on every connect (Sentinel port
///   defaults to 26379; `password` is the master's, `sentinel_password` the Sentinels').
///
/// `rediss://` (TLS) and other schemes are refused.
public enum RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    case embedded
    case tcp(host: String, port: Int, password: String?, db: Int)
    case unix(path: String, password: String?, db: Int)
    case sentinel(sentinels: [SentinelService.Node], master: String, password: String?, sentinelPassword: String?, db: Int)

    /// A human form with the password masked, safe for logs.
    public var description: String {
        switch self {
        case .embedded: return "embedded"
        case let .tcp(host, port, password, db):
            let h = host.contains(":") ? "[\(host)]" : host
            return "redis://\(password == nil ? "" : ":***@")\(h):\(port)/\(db)"
        case let .unix(path, password, db):
            return "unix://\(path)?db=\(db)\(password == nil ? "" : "&password=***")"
        case let .sentinel(sentinels, master, password, sentinelPassword, db):
            return "redis-sentinel://\(sentinels.map(\.description).joined(separator: ","))/\(master)?db=\(db)"
                + (password == nil ? "" : "&password=***") + (sentinelPassword == nil ? "" : "&sentinel_password=***")
        }
    }

    /// Parses a `redis.url` value. The error string says what is wrong (without the key).
    public static func parse(_ url: String) -> Result<RedisEndpoint, RedisURLError> {
        if url == "embedded" { return .success(.embedded) }
        if url.hasPrefix("redis://") { return parseTCP(String(url.dropFirst("redis://".count))) }
        if url.hasPrefix("unix://") { return parseUnix(String(url.dropFirst("unix://".count))) }
        if url.hasPrefix("redis-sentinel://") {
            return parseSentinel(Substring(url.dropFirst("redis-sentinel://".count)))
        }
        return .failure(
            RedisURLError(
                "must be \"embedded\", redis://[:password@]host:port[/db], unix:///path or "
                    + "redis-sentinel://host:port[,host:port...]/MASTER"))
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
        switch parseHostPort(rest, defaultPort: 6379) {
        case .success(let node): return .success(.tcp(host: node.host, port: node.port, password: password, db: db))
        case .failure(let error): return .failure(error)
        }
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`.
    private static func parseHostPort(_ rest: Substring, defaultPort: Int) -> Result<(host: String, port: Int), RedisURLError> {
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
        // A host is a name or an address, never credentials or a path: `@`, `/` and (outside the
        // IPv6 brackets) `:` are refused rather than taken into a host that is then logged.
        let bracketed = rest.hasPrefix("[")
        guard !host.isEmpty,
            bracketed
                ? host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })
                : !host.contains(where: { " ?#@/:[]%".contains($0) || $0.isWhitespace })
        else {
            return .failure(RedisURLError("missing or bad host"))
        }
        var port = defaultPort
        if let portPart {
            guard let p = Int(portPart), (1...65535).contains(p) else {
                return .failure(RedisURLError("port must be an integer 1-65535"))
            }
            port = p
        }
        return .success((String(host), port))
    }

    private static func parseUnix(_ rest: String) -> Result<RedisEndpoint, RedisURLError> {
        var path = Substring(rest)
        var options = QueryOptions()
        if let q = path.firstIndex(of: "?") {
            if let error = options.read(path[path.index(after: q)...], sentinel: false) { return .failure(error) }
            path = path[..<q]
        }
        guard path.hasPrefix("/"), path.count > 1 else {
            return .failure(RedisURLError("unix socket path must be absolute: unix:///path/to/redis.sock"))
        }
        return .success(.unix(path: String(path), password: options.password, db: options.db))
    }

    private static func parseSentinel(_ rest0: Substring) -> Result<RedisEndpoint, RedisURLError> {
        var rest = rest0
        var options = QueryOptions()
        if let q = rest.firstIndex(of: "?") {
            if let error = options.read(rest[rest.index(after: q)...], sentinel: true) { return .failure(error) }
            rest = rest[..<q]
        }
        // `[user:]password@` before the list would be ambiguous (the master's or the Sentinels'?)
        // and would end up in a host name: refused, pointing at the query parameters.
        if rest.contains("@") {
            return .failure(
                RedisURLError(
                    "credentials before the sentinel list are not accepted: put the master's password in "
                        + "?password= and the Sentinels' in ?sentinel_password="))
        }
        guard let slash = rest.firstIndex(of: "/") else {
            return .failure(RedisURLError("the master name is missing: redis-sentinel://host:port[,host:port...]/MASTER"))
        }
        let master = rest[rest.index(after: slash)...]
        guard !master.isEmpty, !master.contains(where: { $0 == "/" || $0 == " " || $0 == "#" || $0 == "@" }) else {
            return .failure(RedisURLError("bad master name"))
        }
        var sentinels: [SentinelService.Node] = []
        // Errors name a sentinel by its position, never by its text (which may hold a secret).
        for (index, hostPort) in rest[..<slash].split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            switch parseHostPort(hostPort, defaultPort: 26379) {
            case .success(let node): sentinels.append(SentinelService.Node(host: node.host, port: node.port))
            case .failure(let error): return .failure(RedisURLError("sentinel #\(index + 1): \(error.message)"))
            }
        }
        return .success(
            .sentinel(
                sentinels: sentinels, master: String(master), password: options.password,
                sentinelPassword: options.sentinelPassword, db: options.db))
    }

    /// The `?db=N&password=P[&sentinel_password=S]` query of `unix://` and `redis-sentinel://`.
    private struct QueryOptions {
        var db = 0
        var password: String?
        var sentinelPassword: String?

        /// Reads `query`; the error when a parameter is malformed or unknown.
        mutating func read(_ query: Substring, sentinel: Bool) -> RedisURLError? {
            for pair in query.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2 else { return RedisURLError("a query parameter without \"=\"") }
                switch kv[0] {
                case "db":
                    guard let n = Int(kv[1]), n >= 0, n <= 1_000_000 else {
                        return RedisURLError("database must be a non-negative integer")
                    }
                    db = n
                case "password":
                    guard let pw = percentDecode(kv[1]), !pw.isEmpty else { return RedisURLError("bad password encoding") }
                    password = pw
                case "sentinel_password" where sentinel:
                    guard let pw = percentDecode(kv[1]), !pw.isEmpty else {
                        return RedisURLError("bad sentinel_password encoding")
                    }
                    sentinelPassword = pw
                default:
                    let known = sentinel ? "db, password, sentinel_password" : "db, password"
                    // The name is quoted only when it looks like one (a pasted secret is not shown).
                    let name = kv[0].allSatisfy { $0.isLetter || $0 == "_" } && kv[0].count <= 32 ? "\"\(kv[0])\" " : ""
                    return RedisURLError("unknown query parameter \(name)(\(known))")
                }
            }
            return nil
        }
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
