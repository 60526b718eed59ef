import JWTAuth

extension JWTSigner {
    /// A signer for the configured secret, issuer and audience.
    public init(config: GatewayConfig) {
        self.init(secret: config.jwt.secret, issuer: config.jwt.issuer, audience: config.jwt.audience)
    }
}
