/// Bearer-token check for the gateway: JWT verification against the configured secret,
/// issuer and audience (runs on the service thread; libjwt HS256 is cheap).
struct TokenCheck: Sendable {
    let verifier: JWTVerifier

    init(config: GatewayConfig) { verifier = JWTVerifier(config: config) }

    func check(_ token: String) -> Result<Identity, AuthRefusal> {
        switch verifier.verify(token) {
        case .success(let claims):
            return .success(Identity(subject: claims.sub, role: claims.role, expiresAt: Double(claims.exp)))
        case .failure(let failure):
            return .failure(AuthRefusal(failure.reason))
        }
    }
}
