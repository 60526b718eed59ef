extension RedisConnection {
    /// Seconds one Sentinel may take to accept a connection and to answer: short, so a Sentinel
    /// that is down costs little before the next one is asked.
    static let sentinelTimeout = 0.5

    /// A connection to the master of `service`, with `address`'s password and database: asks each
    /// Sentinel in turn (`SENTINEL get-master-addr-by-name`), connects to the server it names and
    /// keeps the connection when that server's `ROLE` is `master`; otherwise (Sentinel down, no
    /// answer, master unreachable, or not a master yet — a failover in progress) asks the next,
    /// skipping a server already tried.
    /// Throws `.connect` listing what each Sentinel answered when none led to a master.
    static func connectToMaster(
        of service: SentinelService, address: RedisAddress, connectTimeout: Double, readTimeout: Double?,
        deadline: ContinuousClock.Instant?
    ) throws(RedisError) -> RedisConnection {
        var failures: [String] = []
        // A master that could not be reached is not tried again when the next Sentinel names it
        // too (a dead host would cost a connect timeout per Sentinel).
        var tried: Set<String> = []
        for index in service.watch.order(count: service.sentinels.count) {
            let node = service.sentinels[index]
            let master: SentinelService.Node
            do {
                master = try askSentinel(node, for: service, connectTimeout: connectTimeout, deadline: deadline)
            } catch {
                failures.append("sentinel \(node): \(error)")
                continue
            }
            guard tried.insert(master.description).inserted else {
                failures.append("sentinel \(node) named \(master) too")
                continue
            }
            let server = RedisAddress(host: master.host, port: master.port, password: address.password, db: address.db)
            do {
                let connection = try RedisConnection(
                    server, connectTimeout: connectTimeout, readTimeout: readTimeout, deadline: deadline)
                let role = try connection.command(["ROLE"]).checked()
                guard let kind = role.array?.first?.string, kind == "master" else {
                    failures.append("sentinel \(node) named \(master), whose role is \(role.array?.first?.string ?? "\(role)")")
                    continue
                }
                service.watch.reached(master, askingSentinel: index)
                return connection
            } catch {
                failures.append("sentinel \(node) named \(master): \(error)")
            }
        }
        throw .connect("\(service): no master found (\(failures.joined(separator: "; ")))")
    }

    /// The master address Sentinel `node` gives for `service` (`SENTINEL get-master-addr-by-name`).
    private static func askSentinel(
        _ node: SentinelService.Node, for service: SentinelService, connectTimeout: Double,
        deadline: ContinuousClock.Instant?
    ) throws(RedisError) -> SentinelService.Node {
        let sentinel = try RedisConnection(
            RedisAddress(host: node.host, port: node.port, password: service.sentinelPassword),
            connectTimeout: min(connectTimeout, sentinelTimeout), readTimeout: sentinelTimeout, deadline: deadline)
        let reply = try sentinel.command(["SENTINEL", "get-master-addr-by-name", service.masterName]).checked()
        guard let parts = reply.array, parts.count == 2, let host = parts[0].string,
            let port = parts[1].integer, (1...65535).contains(port)
        else {
            if reply.isNull { throw .unexpectedReply("does not monitor a master named \(service.masterName)") }
            throw .unexpectedReply("get-master-addr-by-name answered \(reply)")
        }
        return SentinelService.Node(host: host, port: Int(port))
    }
}
