/// Where a Redis server listens and how to log in to it.
///
/// The configuration layer maps its endpoint (`redis://…`, `unix://…`, or the embedded server's
/// socket) onto this value; every connection, pool and bridge connects through it.
public struct RedisAddress: Sendable, Equatable, CustomStringConvertible {
    /// The transport part of an address.
    public enum Transport: Sendable, Equatable {
        /// TCP to `host:port`.
        case tcp(host: String, port: Int)
        /// A unix domain socket at `path`.
        case unix(path: String)
    }

    /// TCP host/port or unix socket path.
    public var transport: Transport
    /// Sent with `AUTH` right after connecting when not nil.
    public var password: String?
    /// Selected with `SELECT` right after connecting when not 0.
    public var db: Int

    /// A TCP address.
    public init(host: String, port: Int, password: String? = nil, db: Int = 0) {
        self.transport = .tcp(host: host, port: port)
        self.password = password
        self.db = db
    }

    /// A unix socket address.
    public init(unixPath: String, password: String? = nil, db: Int = 0) {
        self.transport = .unix(path: unixPath)
        self.password = password
        self.db = db
    }

    /// `host:port` or `unix:path` plus `/db` when not 0; never shows the password.
    public var description: String {
        let base: String
        switch transport {
        case .tcp(let host, let port): base = "\(host):\(port)"
        case .unix(let path): base = "unix:\(path)"
        }
        return db == 0 ? base : "\(base)/\(db)"
    }
}
