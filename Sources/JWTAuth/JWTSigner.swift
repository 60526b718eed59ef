/// Signs HS256 JWTs for `bedrock token` and tests. An immutable value; any thread may call it:
/// each `sign` creates, uses and frees its own libjwt handle on the calling thread.
public struct JWTSigner: Sendable {
    private let key: [UInt8]
    /// `iss` added to every token, when configured.
    public let issuer: String?
    /// `aud` added to every token, when configured.
    public let audience: String?

    /// A signer for `secret` (its UTF-8 bytes are the HMAC key).
    public init(secret: String, issuer: String? = nil, audience: String? = nil) {
        self.key = Array(secret.utf8)
        self.issuer = issuer
        self.audience = audience
    }

    /// A compact HS256 token with `sub`, `role`, `iat` = `now`, `exp` = `now + ttl`, and `iss` /
    /// `aud` when configured. `ttl` is in seconds.
    ///
    /// - Precondition: `sub` is 1–256 bytes and `ttl > 0` (check user input first).
    public func sign(sub: String, role: Role, ttl: Int64 = 3600, now: Int64 = JWTClock.nowSeconds()) -> String {
        precondition(!sub.isEmpty && sub.utf8.count <= JWTVerifier.maxSubjectBytes, "sub must be 1-256 bytes")
        precondition(ttl > 0, "ttl must be positive")
        var grants: [(String, LibJWT.Grant)] = [
            ("sub", .string(sub)), ("role", .string(role.rawValue)), ("iat", .int(now)), ("exp", .int(now + ttl)),
        ]
        if let issuer { grants.append(("iss", .string(issuer))) }
        if let audience { grants.append(("aud", .string(audience))) }
        guard let token = LibJWT.encode(grants: grants, key: key) else {
            // Only reachable if libjwt cannot allocate: the claim names are fixed and distinct.
            fatalError("libjwt failed to sign a token")
        }
        return token
    }
}
