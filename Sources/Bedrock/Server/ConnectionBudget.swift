/// Who may open a WebSocket connection (`server.max_connections`, `server.max_unauthenticated`,
/// `server.max_connections_per_ip`): a pure decision on the counts `LoopCensus` reports.
///
/// Authenticated sessions and sockets still waiting for first-frame authentication have budgets
/// of their own, so a crowd of token-less sockets can never keep an authenticated client out:
/// an upgrade carrying a valid token is judged only against `max_connections` (and its address),
/// a token-less one only against `max_unauthenticated` (and its address). The process therefore
/// holds at most `max_connections + max_unauthenticated` sockets.
struct ConnectionBudget: Sendable, Equatable {
    /// `server.max_connections`: authenticated sessions.
    var maxAuthenticated: Int
    /// `server.max_unauthenticated` in effect: sockets waiting for their `auth` frame.
    var maxUnauthenticated: Int
    /// `server.max_connections_per_ip`: connections of one peer address; 0 for no limit.
    var maxPerAddress: Int
    /// `server.per_ip_exempt`: addresses the per-address limit does not apply to.
    var exempt: Set<String>

    /// The budgets `server` configures.
    init(_ server: GatewayConfig.Server) {
        maxAuthenticated = server.maxConnections
        maxUnauthenticated = server.effectiveMaxUnauthenticated
        maxPerAddress = server.maxConnectionsPerIP
        exempt = Set(server.perIPExempt.map(ConnectionBudget.normalized))
    }

    /// Connections open now, across every service loop.
    struct Occupancy: Sendable, Equatable {
        var authenticated: Int
        var unauthenticated: Int
        /// Connections of the address asking.
        var fromAddress: Int
    }

    /// Why an upgrade is refused (HTTP 503, or close 4503 when it authenticates later).
    enum Refusal: Sendable, Equatable {
        case authenticatedFull
        case unauthenticatedFull
        case addressFull

        /// The message of the error body.
        func message(_ budget: ConnectionBudget) -> String {
            switch self {
            case .authenticatedFull:
                return "server at its connection limit (\(budget.maxAuthenticated))"
            case .unauthenticatedFull:
                return
                    "too many connections waiting for authentication (\(budget.maxUnauthenticated)); send the token with the upgrade or retry"
            case .addressFull:
                return "too many connections from one address (\(budget.maxPerAddress))"
            }
        }
    }

    /// The decision on an upgrade from `address` (normalised), `authenticated` when it carried a
    /// valid token; nil admits it.
    func admit(authenticated: Bool, from address: String, _ now: Occupancy) -> Refusal? {
        if maxPerAddress > 0, now.fromAddress >= maxPerAddress, !exempt.contains(address) { return .addressFull }
        if authenticated { return now.authenticated >= maxAuthenticated ? .authenticatedFull : nil }
        return now.unauthenticated >= maxUnauthenticated ? .unauthenticatedFull : nil
    }

    /// One spelling per address: an IPv4 peer of a dual-stack socket (`::ffff:1.2.3.4`) counts as
    /// `1.2.3.4`.
    static func normalized(_ address: String) -> String {
        let mapped = "::ffff:"
        guard address.lowercased().hasPrefix(mapped), address.contains(".") else { return address }
        return String(address.dropFirst(mapped.count))
    }
}
