import GatewayCore

/// Sessions across gateways on the loop: the connection's entry in the `PresenceBook` (and the
/// per-user connection limit it keeps), and closing a user's sockets on order.
extension ServiceLoop {
    /// The connection's key in the presence book.
    func presenceKey(_ connection: Connection) -> PresenceKey { PresenceKey(loop: index, serial: connection.serial) }

    /// Count the newly authenticated connection in the book; false (and the connection closes
    /// with 4429) when its user already holds `server.max_connections_per_user` connections.
    func enterPresence(_ connection: Connection) -> Bool {
        guard let identity = connection.machine.identity else { return false }
        let since = Int64(clock.read().wall * 1000)
        guard presence.opened(presenceKey(connection), sub: identity.subject, role: identity.role, sinceMillis: since) else {
            metrics.connectionsRefused.add()
            requestClose(connection, .rateLimited, userLimitMessage(identity.subject))
            return false
        }
        return true
    }

    /// Why a connection of `sub` is refused at the per-user limit (HTTP 429 body, or close reason).
    func userLimitMessage(_ sub: String) -> String {
        let text = "too many connections for this user (\(presence.maxPerUser), server.max_connections_per_user)"
        return sub.utf8.count < 40 ? "\(sub): \(text)" : text
    }

    /// Close the sockets of `sub` on this loop: every one with 4403 (an admin disconnect), or,
    /// given `issuedBeforeMillis`, those whose token was issued before then (or carries no
    /// `iat`) with 4401 "token revoked".
    func closeSessions(of sub: String, issuedBeforeMillis: Int64?) {
        affinity.assertOnLoop("closing a user's sessions")
        for connection in connections.values where connection.outbound.closing == nil {
            guard let identity = connection.machine.identity, identity.subject == sub else { continue }
            guard let before = issuedBeforeMillis else {
                requestClose(connection, .forbidden, "disconnected by an administrator")
                continue
            }
            if let issuedAt = identity.issuedAt, issuedAt * 1000 >= Double(before) { continue }
            requestClose(connection, .unauthenticated, "token revoked")
        }
    }
}
