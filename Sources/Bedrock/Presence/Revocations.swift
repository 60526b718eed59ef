import Synchronization

/// The revoked users this gateway knows of: `sub` → epoch milliseconds before which its tokens
/// are refused (the Redis hash `<prefix>revoked`, loaded at start and kept current by
/// `SessionControl`). Checked in the token path of HTTP and WebSocket alike; any thread, one
/// `Mutex` around a dictionary lookup.
final class Revocations: Sendable {
    private let revoked = Mutex<[String: Int64]>([:])

    /// An empty list.
    init() {}

    /// Why `identity`'s token is refused, or nil when it is not revoked: a token of a revoked
    /// `sub` issued before the revocation, or carrying no `iat`, is.
    func refusal(for identity: Identity) -> AuthRefusal? {
        guard let before = revoked.withLock({ $0[identity.subject] }) else { return nil }
        return Revocations.isRevoked(issuedAt: identity.issuedAt, before: before) ? AuthRefusal("token revoked") : nil
    }

    /// Whether a token with `iat` `issuedAt` (whole seconds; nil: none) falls under a revocation
    /// refusing tokens issued before `millis` (`admin.disconnect` stores the next whole second
    /// after the revocation, `PresenceMethods.revocationBoundary`): `iat < millis / 1000`. The
    /// `iat` is the issuer's word, which the verifier accepts up to `jwt.leeway_s` ahead.
    static func isRevoked(issuedAt: Double?, before millis: Int64) -> Bool {
        guard let issuedAt else { return true }
        return issuedAt < Double(millis) / 1000
    }

    /// `verdict`, unless it admits an identity whose token is revoked.
    func check(_ verdict: Result<Identity, AuthRefusal>) -> Result<Identity, AuthRefusal> {
        guard case .success(let identity) = verdict, let refusal = refusal(for: identity) else { return verdict }
        return .failure(refusal)
    }

    /// Take the whole hash as read from Redis; returns the entries that are new or moved later
    /// (their users' open connections are checked again).
    @discardableResult
    func replace(with all: [String: Int64]) -> [String: Int64] {
        revoked.withLock { current in
            let changed = all.filter { entry in current[entry.key].map { $0 < entry.value } ?? true }
            current = all
            return changed
        }
    }

    /// One revocation heard of (a control message): true when it is new or later than the one known.
    @discardableResult
    func record(_ sub: String, millis: Int64) -> Bool {
        revoked.withLock {
            guard $0[sub].map({ $0 < millis }) ?? true else { return false }
            $0[sub] = millis
            return true
        }
    }
}
