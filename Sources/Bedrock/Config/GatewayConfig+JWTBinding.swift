extension GatewayConfig.JWT {
    /// `jwt.issuer` and `jwt.audience`, those of them not set while an identity provider's keys
    /// are (`jwt.public_key_file`, `jwt.jwks_file`); empty when both are set or no key file is.
    /// A provider's keys sign the tokens of every application it serves: without both checks
    /// the gateway accepts a token issued for another application that carries a `role` claim.
    public var unboundTokenChecks: [String] {
        guard publicKeyFile != nil || jwksFile != nil else { return [] }
        return [("jwt.issuer", issuer), ("jwt.audience", audience)].filter { $0.1 == nil }.map(\.0)
    }

    /// The key files set, by key name (for messages).
    var keyFileKeys: [String] {
        [("jwt.public_key_file", publicKeyFile), ("jwt.jwks_file", jwksFile)].filter { $0.1 != nil }.map(\.0)
    }

    /// The production refusal: names the first of `unboundTokenChecks` as the key at fault.
    func unboundTokenChecksError(source: ConfigSource?) -> ConfigError? {
        let missing = unboundTokenChecks
        guard let first = missing.first else { return nil }
        let also = missing.dropFirst().map { " (and \($0))" }.joined()
        return ConfigError(
            key: first,
            message:
                "must be set\(also) in production when \(keyFileKeys.joined(separator: " / ")) is set, or a token the identity provider issued for another application is accepted",
            source: source)
    }

    /// The dev-mode warning for `unboundTokenChecks`, one line; nil when nothing is missing.
    var unboundTokenChecksWarning: String? {
        let missing = unboundTokenChecks
        guard !missing.isEmpty else { return nil }
        return
            "jwt: \(missing.joined(separator: " and ")) not set with \(keyFileKeys.joined(separator: " / ")): a token the identity provider issued for another application is accepted (production refuses to start)"
    }
}
