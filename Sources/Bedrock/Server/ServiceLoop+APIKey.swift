import Transport

/// REST callers holding an API key (`api.keys`): `Authorization: ApiKey <key>`.
extension ServiceLoop {
    /// What `/ws` answers to an upgrade presenting an API key: sockets take JWTs only.
    static let socketRefusesAPIKeys =
        "the WebSocket endpoint /ws does not take API keys (they are for REST): use a JWT (Authorization: Bearer, ?token= or the auth frame)"

    /// The identity of a request with `Authorization: ApiKey <key>`: `apikey:<name>` with the
    /// key's role, or a refusal that never repeats the key; nil when the request uses another
    /// scheme (or none).
    func apiKeyIdentity(_ wsi: WSI) -> Result<Identity, AuthRefusal>? {
        guard let key = HTTPExchange.apiKey(wsi) else { return nil }
        guard HTTPExchange.isWellFormedAPIKey(key) else {
            return .failure(AuthRefusal("malformed API key (Authorization: ApiKey <key>, 1-256 visible ASCII characters)"))
        }
        return options.apiKeys.identity(forKey: key)
    }
}
