import JWTAuth

extension JWTSigner {
    /// A signer for the configured secret (never `jwt.previous_secret`), issuer and audience.
    /// Callers check first that a secret exists (`secretOrigin` is not `.none`).
    public init(config: GatewayConfig) {
        self.init(secret: config.jwt.secret, issuer: config.jwt.issuer, audience: config.jwt.audience)
    }
}
