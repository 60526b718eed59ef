import JWTAuth

extension JWTVerifier {
    /// A verifier for the configured secrets (current, then previous), public keys, issuer,
    /// audience and leeway.
    public init(config: GatewayConfig) {
        let keys = JWTKeySet(
            secrets: [config.jwt.secret] + (config.jwt.previousSecret.map { [$0] } ?? []),
            publicKeys: config.jwt.publicKeys)
        self.init(
            keys: keys, issuer: config.jwt.issuer, audience: config.jwt.audience, leewaySeconds: config.jwt.leewayS)
    }
}
