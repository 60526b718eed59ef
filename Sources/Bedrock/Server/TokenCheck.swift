import Foundation
import GatewayCore
import JWTAuth

/// Bearer-token check for the gateway: JWT verification against the configured secret, issuer
/// and audience, with a bounded cache of tokens already verified so a client presenting the same
/// token on every request costs one HMAC, not one per request. A cached token is still refused
/// once its `exp` has passed; a tampered token is another string and is verified afresh.
final class TokenCheck: @unchecked Sendable {
    // Sound: `cache` and `order` are only touched while holding `lock`.
    private let verifier: JWTVerifier
    private let lock = NSLock()
    private var cache: [String: Identity] = [:]
    private var order: [String] = []
    private var next = 0
    /// Most tokens remembered; the oldest entry makes room for a new one.
    let capacity: Int
    /// Wall time judges a remembered token's `exp` (tests move a `ManualClock`).
    private let clock: any GatewayClock

    init(config: GatewayConfig, capacity: Int = 4096, clock: any GatewayClock = SystemClock()) {
        verifier = JWTVerifier(config: config)
        self.capacity = capacity
        self.clock = clock
    }

    func check(_ token: String) -> Result<Identity, AuthRefusal> {
        let now = clock.read().wall
        lock.lock()
        if let known = cache[token] {
            lock.unlock()
            return now < known.expiresAt ? .success(known) : .failure(AuthRefusal("token expired"))
        }
        lock.unlock()
        switch verifier.verify(token) {
        case .success(let claims):
            let identity = Identity(subject: claims.sub, role: claims.role, expiresAt: Double(claims.exp))
            remember(token, identity)
            return .success(identity)
        case .failure(let failure):
            return .failure(AuthRefusal(failure.reason))
        }
    }

    /// Tokens currently remembered (tests).
    var cachedCount: Int { lock.lock(); defer { lock.unlock() }; return cache.count }

    private func remember(_ token: String, _ identity: Identity) {
        lock.lock()
        defer { lock.unlock() }
        guard cache[token] == nil else { return }
        if order.count < capacity {
            order.append(token)
        } else {
            cache[order[next]] = nil
            order[next] = token
            next = (next + 1) % capacity
        }
        cache[token] = identity
    }
}
