/// Bearer-token check for the gateway: JWT verification against the configured secret.
struct TokenCheck: Sendable {
    let config: GatewayConfig

    init(config: GatewayConfig) { self.config = config }

    func check(_ token: String) -> Result<Identity, AuthRefusal> {
        .failure(AuthRefusal("JWT verification not wired yet"))
    }
}
