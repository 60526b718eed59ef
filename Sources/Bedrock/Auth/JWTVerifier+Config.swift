import JWTAuth

extension JWTVerifier {
    /// A verifier for the configured secret, issuer, audience and leeway.
    public init(config: GatewayConfig) {
        self.init(
            secret: config.jwt.secret, issuer: config.jwt.issuer, audience: config.jwt.audience,
            leewaySeconds: config.jwt.leewayS)
    }
}
