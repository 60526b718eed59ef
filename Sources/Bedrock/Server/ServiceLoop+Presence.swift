import GatewayCore

/// Sessions across gateways on the loop: the connection's entry in the `PresenceBook` (and the
/// per-user connection limit it keeps), and closing a user's sockets on order.
extension ServiceLoop {
    /// The connection's key in the presence book.
    func presenceKey(_ connection: Connection) -> PresenceKey { PresenceKey(loop: index, serial: connection.serial) }

    /// Count the newly authenticated connection in the book; false (and the connection closes)
    /// when its user was disconnected or revoked while it upgraded (4403 / 4401), or already
    /// holds `server.max_connections_per_user` connections (4429).
    func enterPresence(_ connection: Connection) -> Bool {
        guard let identity = connection.machine.identity else { return false }
        if let order = closedUpgrades.removeValue(forKey: connection.wsi) {
            requestClose(connection, order.code, order.reason)
            return false
        }
        if let refusal = revocations?.refusal(for: identity) {
            requestClose(connection, .unauthenticated, refusal.reason)
            return false
        }
        let since = Int64(clock.read().wall * 1000)
        guard presence.opened(presenceKey(connection), sub: identity.subject, role: identity.role, sinceMillis: since) else {
            metrics.connectionsRefused.add()
            requestClose(connection, .rateLimited, userLimitMessage(identity.subject))
            return false
        }
        return true
    }

    /// The close reason of an admin disconnect (4403).
    static let disconnectReason = "disconnected by an administrator"

    /// Why a connection of `sub` is refused at the per-user limit (HTTP 429 body, or close reason).
    func userLimitMessage(_ sub: String) -> String {
        let text = "too many connections for this user (\(presence.maxPerUser), server.max_connections_per_user)"
        return sub.utf8.count < 40 ? "\(sub): \(text)" : text
    }

    /// Close the sockets of `sub` on this loop: every one with 4403 (an admin disconnect), or,
    /// given `issuedBeforeMillis`, those whose token was issued before then (or carries no
    /// `iat`) with 4401 "token revoked". Sockets of `sub` still upgrading are marked to close the
    /// same way once established (`enterPresence`).
    func closeSessions(of sub: String, issuedBeforeMillis: Int64?) {
        affinity.assertOnLoop("closing a user's sessions")
        for (wsi, identity) in upgrades where identity.subject == sub {
            guard let before = issuedBeforeMillis else {
                closedUpgrades[wsi] = (.forbidden, ServiceLoop.disconnectReason)
                continue
            }
            if Revocations.isRevoked(issuedAt: identity.issuedAt, before: before) {
                closedUpgrades[wsi] = (.unauthenticated, "token revoked")
            }
        }
        for connection in connections.values where connection.outbound.closing == nil {
            guard let identity = connection.machine.identity, identity.subject == sub else { continue }
            guard let before = issuedBeforeMillis else {
                requestClose(connection, .forbidden, ServiceLoop.disconnectReason)
                continue
            }
            guard Revocations.isRevoked(issuedAt: identity.issuedAt, before: before) else { continue }
            requestClose(connection, .unauthenticated, "token revoked")
        }
    }
}
