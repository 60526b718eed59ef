internal import CJWT

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The only file that touches libjwt (1.10, v1 API). Every `jwt_t*` is created and freed here:
/// decoded tokens live only inside `withVerified`'s body (freed by its one `defer`), signing
/// objects only inside `encode` (same), and every `char*` libjwt returns is copied into a Swift
/// `String` and released with `free` before the function returns. Nothing outside this file sees
/// an `OpaquePointer`.
///
/// libjwt is reentrant for these calls (no global state besides OpenSSL's, which is thread-safe),
/// so any thread may call in; each call owns its own handle.
enum LibJWT {
    /// An algorithm libjwt can sign with: HS256 for `JWTSigner`; the others for tests (HS384 and
    /// HS512 tokens must be refused; RS256/ES256 tokens are signed with a private PEM key).
    enum Algorithm: Sendable {
        case hs256, hs384, hs512, rs256, es256

        var cValue: jwt_alg_t {
            switch self {
            case .hs256: return JWT_ALG_HS256
            case .hs384: return JWT_ALG_HS384
            case .hs512: return JWT_ALG_HS512
            case .rs256: return JWT_ALG_RS256
            case .es256: return JWT_ALG_ES256
            }
        }
    }

    /// An integer claim as found in a token.
    enum IntClaim: Equatable {
        case missing
        case notInteger
        case value(Int64)
    }

    /// A verified token's header and claims. Only valid inside the `withVerified` body that
    /// received it; it must not escape (the handle is freed when the body returns).
    struct Decoded: ~Copyable {
        fileprivate let handle: OpaquePointer

        /// True when the header's `alg`, as libjwt read it, is HS256.
        var isHS256: Bool { jwt_get_alg(handle) == JWT_ALG_HS256 }

        /// The header's algorithm name (`HS384`, `none`, ...), for messages.
        var algorithmName: String {
            guard let s = jwt_alg_str(jwt_get_alg(handle)) else { return "unknown" }
            return String(cString: s)
        }

        /// A string claim; `nil` when missing or not a JSON string.
        func string(_ claim: String) -> String? {
            guard let p = jwt_get_grant(handle, claim) else { return nil }
            return String(cString: p)
        }

        /// `true`/`false` when the claim is a JSON string equal / not equal to `value`; `nil` when
        /// missing or not a string. Compares C strings, so no Swift allocation.
        func string(_ claim: String, equals value: String) -> Bool? {
            guard let p = jwt_get_grant(handle, claim) else { return nil }
            return value.withCString { strcmp(p, $0) == 0 }
        }

        /// An integer claim. libjwt signals "missing" and (in some builds) "not an integer" through
        /// `errno`; where a build returns 0 for a non-integer silently, the JSON text decides.
        func integer(_ claim: String) -> IntClaim {
            errno = 0
            let v = jwt_get_grant_int(handle, claim)
            let e = errno
            if e == ENOENT { return .missing }
            if e != 0 { return .notInteger }
            if v == 0 || v == -1 {
                guard let text = json(claim) else { return .missing }
                let trimmed = text.filter { !$0.isWhitespace }
                if trimmed != String(v) { return .notInteger }
            }
            return .value(Int64(v))
        }

        /// The JSON text of a claim (any type), or `nil` when missing.
        func json(_ claim: String) -> String? {
            guard let p = jwt_get_grants_json(handle, claim) else { return nil }
            defer { free(p) }
            return String(cString: p)
        }
    }

    /// Decodes `token` and verifies its signature with `key`, an HMAC secret's bytes (not empty).
    /// libjwt refuses `alg: none` when a key is given, but otherwise uses `key` the way the
    /// header's `alg` says (HS256 over a PEM key's text would verify, were one passed), so callers
    /// pass secrets only and must check `isHS256`. Returns `nil` when libjwt refuses the token
    /// (malformed, bad signature, unknown algorithm), else the body's result.
    static func withVerified<R>(token: String, key: [UInt8], _ body: (borrowing Decoded) -> R) -> R? {
        precondition(!key.isEmpty, "an empty key would let libjwt accept alg none")
        return withDecoded(token, key: key, body)
    }

    /// One `jwt_decode` of `token` with `key` (none when empty), the body run on the result.
    private static func withDecoded<R>(_ token: String, key: [UInt8], _ body: (borrowing Decoded) -> R) -> R? {
        var handle: OpaquePointer?
        let rc = key.withUnsafeBufferPointer { k in
            token.withCString { jwt_decode(&handle, $0, k.isEmpty ? nil : k.baseAddress, Int32(k.count)) }
        }
        guard rc == 0, let h = handle else {
            if let h = handle { jwt_free(h) }
            return nil
        }
        defer { jwt_free(h) }
        return body(Decoded(handle: h))
    }

    /// The compact header `{"alg":"none"}`, for `withClaims(ofVerifiedPayload:)`.
    private static let unsignedHeader = "eyJhbGciOiJub25lIn0"

    /// Decodes the claims of `payload` (a token's base64url payload part) **whose signature the
    /// caller has already verified** — RS256/ES256, checked with OpenSSL (`OpenSSLPublicKey`) —
    /// so the claims are read by the same libjwt code as an HS256 token's. The payload is put
    /// behind an `alg: none` header and decoded with no key, which libjwt allows only then.
    /// Returns `nil` when libjwt cannot decode it, else the body's result.
    static func withClaims<R>(ofVerifiedPayload payload: String, _ body: (borrowing Decoded) -> R) -> R? {
        withDecoded(unsignedHeader + "." + payload + ".", key: [], body)
    }

    /// A claim value to sign.
    enum Grant {
        case string(String)
        case int(Int64)
    }

    /// Signs `grants` (added in order), plus an optional raw JSON object of further claims, with
    /// `alg` and `key` (a secret's bytes, or a private PEM key for RS256/ES256), and `kid` in the
    /// header when given. Returns `nil` when libjwt refuses (e.g. a duplicate claim, bad JSON).
    static func encode(
        grants: [(String, Grant)], extraJSON: String? = nil, alg: Algorithm = .hs256,
        key: [UInt8], kid: String? = nil
    ) -> String? {
        var handle: OpaquePointer?
        guard jwt_new(&handle) == 0, let h = handle else { return nil }
        defer { jwt_free(h) }
        if let kid, jwt_add_header(h, "kid", kid) != 0 { return nil }
        for (name, value) in grants {
            let rc: Int32
            switch value {
            case let .string(s): rc = jwt_add_grant(h, name, s)
            case let .int(n): rc = jwt_add_grant_int(h, name, Int(n))
            }
            guard rc == 0 else { return nil }
        }
        if let extraJSON, jwt_add_grants_json(h, extraJSON) != 0 { return nil }
        let rc = key.withUnsafeBufferPointer { jwt_set_alg(h, alg.cValue, $0.baseAddress, Int32($0.count)) }
        guard rc == 0, let out = jwt_encode_str(h) else { return nil }
        defer { free(out) }
        return String(cString: out)
    }
}
