/// Where a Redis server listens and how to log in to it.
///
/// The configuration layer maps its endpoint (`redis://…`, `unix://…`, `redis-sentinel://…`, or
/// the embedded server's socket) onto this value; every connection, pool and bridge connects
/// through it. A Sentinel address names no server: each new `RedisConnection` asks the Sentinels
/// where the master is now, so every reconnect follows a failover.
public struct RedisAddress: Sendable, Equatable, CustomStringConvertible {
    /// The transport part of an address.
    public enum Transport: Sendable, Equatable {
        /// TCP to `host:port`.
        case tcp(host: String, port: Int)
        /// A unix domain socket at `path`.
        case unix(path: String)
        /// TCP to whichever server the Sentinels of `service` name as its master at connect time.
        case sentinel(SentinelService)
    }

    /// TCP host/port, unix socket path or Sentinel service.
    public var transport: Transport
    /// Sent with `AUTH` right after connecting when not nil (for a Sentinel address: to the
    /// master, not to the Sentinels).
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

    /// The master of a Sentinel-monitored group, found anew on every connect.
    public init(sentinel service: SentinelService, password: String? = nil, db: Int = 0) {
        self.transport = .sentinel(service)
        self.password = password
        self.db = db
    }

    /// `host:port`, `unix:path` or `sentinel:<master>@h1:p1,h2:p2` plus `/db` when not 0; never
    /// shows a password.
    public var description: String {
        let base: String
        switch transport {
        case .tcp(let host, let port): base = "\(host):\(port)"
        case .unix(let path): base = "unix:\(path)"
        case .sentinel(let service): base = service.description
        }
        return db == 0 ? base : "\(base)/\(db)"
    }
}
