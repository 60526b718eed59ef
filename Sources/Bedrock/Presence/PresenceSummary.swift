import JSONCodec
import JWTAuth

/// One gateway's connections grouped by user and by topic: what the presence writer publishes
/// in Redis (`<prefix>presence:gw:<id>`, docs/REDIS_LAYOUT.md) and what `presence.get` merges
/// over every live gateway. Pure values: built, encoded, parsed and merged without I/O.
struct PresenceSummary: Sendable, Equatable {
    /// One user's connections on the gateway.
    struct User: Sendable, Equatable {
        /// The highest role among its connections.
        var role: Role
        var connections: Int
        /// Its earliest connection's authentication time, milliseconds since the epoch.
        var sinceMillis: Int64
    }

    /// Users by `sub`.
    var users: [String: User] = [:]
    /// Topic name (a wire name, every `klines:*` counted as `klines`) → `sub` → connections of
    /// that user subscribed to it.
    var topics: [String: [String: Int]] = [:]

    /// Count one connection.
    mutating func add(sub: String, role: Role, sinceMillis: Int64, topics held: Set<String>) {
        add(sub, User(role: role, connections: 1, sinceMillis: sinceMillis))
        for topic in held { topics[topic, default: [:]][sub, default: 0] += 1 }
    }

    /// Fold in another gateway's summary.
    mutating func merge(_ other: PresenceSummary) {
        for (sub, user) in other.users { add(sub, user) }
        for (topic, subs) in other.topics {
            topics[topic, default: [:]].merge(subs, uniquingKeysWith: +)
        }
    }

    private mutating func add(_ sub: String, _ user: User) {
        guard var known = users[sub] else {
            users[sub] = user
            return
        }
        known.role = max(known.role, user.role)
        known.connections += user.connections
        known.sinceMillis = min(known.sinceMillis, user.sinceMillis)
        users[sub] = known
    }

    /// The stored form: arrays rather than objects, so a reader parses ten thousand users fast:
    /// `{"users":[[sub,role,connections,since_ms]…],"topics":{"signals":[[sub,connections]…]…}}`.
    func encoded() -> [UInt8] {
        let userRows: [JSONValue] = users.map { sub, user in
            [.string(sub), .string(user.role.rawValue), .int(Int64(user.connections)), .int(user.sinceMillis)]
        }
        let topicRows: [(String, JSONValue)] = topics.map { topic, subs in
            (topic, .array(subs.map { [.string($0.key), .int(Int64($0.value))] }))
        }
        return JSONCodec.encode(.object([("users", .array(userRows)), ("topics", .object(topicRows))]))
    }

    /// A stored summary read back; nil when it is not one (a key someone else wrote).
    init?(encoded bytes: [UInt8]) {
        guard let document = try? JSONCodec.parse(bytes), let rows = document["users"]?.arrayValue else { return nil }
        for row in rows {
            guard let cells = row.arrayValue, cells.count == 4, let sub = cells[0].stringValue,
                let role = cells[1].stringValue.flatMap(Role.init(rawValue:)), let count = cells[2].intValue,
                let since = cells[3].intValue
            else { return nil }
            add(sub, User(role: role, connections: Int(count), sinceMillis: since))
        }
        for (topic, value) in document["topics"]?.objectValue?.members ?? [] {
            for row in value.arrayValue ?? [] {
                guard let cells = row.arrayValue, cells.count == 2, let sub = cells[0].stringValue,
                    let count = cells[1].intValue
                else { return nil }
                topics[topic, default: [:]][sub, default: 0] += Int(count)
            }
        }
    }

    /// An empty summary.
    init() {}

    /// The `presence.get` answer over `gateways` live gateways: every user (or, with `topic`,
    /// the users with connections subscribed to it, counting only those), sorted by `sub`.
    func answer(topic: String?, gateways: Int) -> JSONValue {
        var rows: [(sub: String, user: User)] = []
        if let topic {
            for (sub, count) in topics[topic] ?? [:] {
                guard var user = users[sub] else { continue }
                user.connections = count
                rows.append((sub, user))
            }
        } else {
            rows = users.map { ($0.key, $0.value) }
        }
        rows.sort { $0.sub < $1.sub }
        let total = rows.reduce(0) { $0 + $1.user.connections }
        let list: [JSONValue] = rows.map { row in
            .object([
                ("sub", .string(row.sub)), ("role", .string(row.user.role.rawValue)),
                ("connections", .int(Int64(row.user.connections))),
                ("since", .string(Timestamp.rfc3339(millis: row.user.sinceMillis))),
            ])
        }
        return .object([
            ("total_connections", .int(Int64(total))), ("users", .array(list)), ("gateways", .int(Int64(gateways))),
        ])
    }
}
