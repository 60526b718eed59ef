import Foundation
import GatewayCore
import JWTAuth
import Synchronization

/// Bearer-token check for the gateway: JWT verification against the configured secrets, public
/// keys (re-read when a token names an unknown key id, see `KeyReloadingVerifier`), issuer and
/// audience, with a bounded cache of tokens already verified so a client
/// presenting the same token on every request costs one signature check, not one per request. A cached token is still refused
/// once its `exp` has passed; a tampered token is another string and is verified afresh.
final class TokenCheck: Sendable {
    /// The remembered tokens and the ring that evicts the oldest.
    private struct Remembered {
        var identities: [String: Identity] = [:]
        var order: [String] = []
        var next = 0
    }

    private let verifier: KeyReloadingVerifier
    private let cache = Mutex(Remembered())
    /// Most tokens remembered; the oldest entry makes room for a new one.
    let capacity: Int
    /// Wall time judges a remembered token's `exp` (tests move a `ManualClock`).
    private let clock: any GatewayClock

    init(config: GatewayConfig, capacity: Int = 4096, clock: any GatewayClock = SystemClock()) {
        verifier = KeyReloadingVerifier(config: config, clock: clock)
        self.capacity = capacity
        self.clock = clock
    }

    func check(_ token: String) -> Result<Identity, AuthRefusal> {
        if let known = cache.withLock({ $0.identities[token] }) {
            return clock.read().wall < known.expiresAt ? .success(known) : .failure(AuthRefusal("token expired"))
        }
        switch verifier.verify(token) {
        case .success(let claims):
            if let refusal = TokenCheck.reservedSubjectRefusal(claims.sub) { return .failure(refusal) }
            let identity = Identity(
                subject: claims.sub, role: claims.role, expiresAt: Double(claims.exp), issuedAt: claims.iat.map(Double.init))
            remember(token, identity)
            return .success(identity)
        case .failure(let failure):
            return .failure(AuthRefusal(failure.reason))
        }
    }

    /// API-key identities are `apikey:<name>` (`api.keys`): a JWT whose `sub` starts so would
    /// pass for a key in logs and could not be disconnected, so it is refused.
    static func reservedSubjectRefusal(_ sub: String) -> AuthRefusal? {
        sub.hasPrefix("apikey:") ? AuthRefusal("sub apikey:… is reserved for API keys") : nil
    }

    /// Tokens currently remembered (tests).
    var cachedCount: Int { cache.withLock { $0.identities.count } }

    private func remember(_ token: String, _ identity: Identity) {
        cache.withLock { cache in
            guard cache.identities[token] == nil else { return }
            if cache.order.count < capacity {
                cache.order.append(token)
            } else {
                cache.identities[cache.order[cache.next]] = nil
                cache.order[cache.next] = token
                cache.next = (cache.next + 1) % capacity
            }
            cache.identities[token] = identity
        }
    }
}
