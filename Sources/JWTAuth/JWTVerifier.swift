import Foundation
import JSONCodec

/// Verifies JWTs (SPEC §6, §13) against a `JWTKeySet`: HS256 with the secrets, RS256/ES256 with
/// public keys, each key pinned to its one algorithm. An immutable value: build one at start-up
/// and share it; any thread may call `verify`, which creates and frees its own libjwt handles on
/// the calling thread. Before libjwt sees a token, its header and payload are decoded and parsed
/// here with duplicate keys refused (libjwt's own parse keeps the last of two `role` members),
/// and the header's exact `alg` (libjwt reads algorithm names without regard to case) and `kid`
/// choose the keys to try. For a secret, one libjwt decode checks the signature (libjwt's reading
/// of `alg` must be HS256); for a public key, OpenSSL checks it with the key parsed at start-up
/// and libjwt decodes the verified payload. Either way the claims are read from libjwt.
public struct JWTVerifier: Sendable {
    /// Tokens longer than this are refused unparsed.
    public static let maxTokenBytes = 8192
    /// Longest accepted `sub`.
    public static let maxSubjectBytes = 256

    /// The keys tokens are verified with.
    public let keys: JWTKeySet
    /// Required `iss`, when configured.
    public let issuer: String?
    /// Required `aud` member, when configured.
    public let audience: String?
    /// Clock skew allowed for `nbf` and `iat`, seconds. `exp` has none.
    public let leeway: Int64

    /// A verifier for `keys`.
    public init(keys: JWTKeySet, issuer: String? = nil, audience: String? = nil, leewaySeconds: Int = 60) {
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = Int64(leewaySeconds)
    }

    /// A verifier of HS256 tokens signed with `secret` (its UTF-8 bytes are the HMAC key).
    public init(secret: String, issuer: String? = nil, audience: String? = nil, leewaySeconds: Int = 60) {
        self.init(keys: JWTKeySet(secrets: [secret]), issuer: issuer, audience: audience, leewaySeconds: leewaySeconds)
    }

    /// Verifies `token` at `now` (epoch seconds) and returns its claims, or why it was refused.
    public func verify(_ token: String, now: Int64 = JWTClock.nowSeconds()) -> Result<Claims, AuthFailure> {
        if token.isEmpty { return .failure(.missingToken) }
        if let problem = Self.shapeProblem(token) { return .failure(.malformed(problem)) }
        let header: Header
        switch Self.header(token) {
        case let .success(h): header = h
        case let .failure(f): return .failure(f)
        }
        let candidates: [JWTKeySet.Candidate]
        switch keys.candidates(alg: header.alg, kid: header.kid) {
        case let .success(c): candidates = c
        case let .failure(f): return .failure(f)
        }
        if let failure = Self.headerAndPayloadProblem(token, header: header) { return .failure(failure) }
        for key in candidates {
            let outcome: Result<Claims, AuthFailure>?
            switch key {
            case let .secret(bytes):
                outcome = LibJWT.withVerified(token: token, key: bytes) {
                    (jwt: borrowing LibJWT.Decoded) -> Result<Claims, AuthFailure> in
                    guard jwt.isHS256 else { return .failure(.algorithmNotAllowed(jwt.algorithmName)) }
                    return checkClaims(jwt, now: now)
                }
            case let .publicKey(publicKey):
                // The signature is checked here with the key parsed once (see OpenSSLPublicKey),
                // then libjwt reads the verified payload's claims.
                let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
                let signingInput = Array(token.utf8[..<parts[1].endIndex])
                guard let signature = Base64URL.decode(Substring(parts[2])),
                    publicKey.verifies(signingInput, signature: signature)
                else { continue }
                outcome = LibJWT.withClaims(ofVerifiedPayload: String(Substring(parts[1]))) {
                    (jwt: borrowing LibJWT.Decoded) -> Result<Claims, AuthFailure> in
                    checkClaims(jwt, now: now)
                }
            }
            if let outcome { return outcome }
        }
        return .failure(.badSignature)
    }

    /// Convenience: the claims, or `nil`.
    public func claims(_ token: String, now: Int64 = JWTClock.nowSeconds()) -> Claims? {
        try? verify(token, now: now).get()
    }

    private func checkClaims(_ jwt: borrowing LibJWT.Decoded, now: Int64) -> Result<Claims, AuthFailure> {
        let exp: Int64
        switch jwt.integer("exp") {
        case .missing: return .failure(.missingClaim("exp"))
        case .notInteger: return .failure(.invalidClaim("exp must be an integer (epoch seconds)"))
        case let .value(v): exp = v
        }
        if now >= exp { return .failure(.expired) }
        var nbf: Int64?
        switch jwt.integer("nbf") {
        case .missing: break
        case .notInteger: return .failure(.invalidClaim("nbf must be an integer (epoch seconds)"))
        case let .value(v):
            if v > now + leeway { return .failure(.notYetValid) }
            nbf = v
        }
        var iat: Int64?
        switch jwt.integer("iat") {
        case .missing: break
        case .notInteger: return .failure(.invalidClaim("iat must be an integer (epoch seconds)"))
        case let .value(v):
            if v > now + leeway { return .failure(.issuedInFuture) }
            iat = v
        }
        guard let sub = jwt.string("sub") else {
            return .failure(jwt.json("sub") == nil ? .missingClaim("sub") : .invalidClaim("sub must be a string"))
        }
        guard !sub.isEmpty, sub.utf8.count <= Self.maxSubjectBytes else {
            return .failure(.invalidClaim("sub must be 1-\(Self.maxSubjectBytes) bytes"))
        }
        guard let roleName = jwt.string("role") else {
            return .failure(jwt.json("role") == nil ? .missingClaim("role") : .invalidClaim("role must be a string"))
        }
        guard let role = Role(rawValue: roleName) else {
            return .failure(.invalidClaim("role must be ADMIN, TRADER or VIEWER"))
        }
        if let issuer, jwt.string("iss", equals: issuer) != true { return .failure(.wrongIssuer) }
        if let audience {
            switch jwt.string("aud", equals: audience) {
            case true?: break
            case false?: return .failure(.wrongAudience)
            case nil:
                // Not a string: either absent or an array of strings.
                guard let text = jwt.json("aud"),
                    let list = (try? JSONCodec.parse(text))?.arrayValue,
                    list.contains(where: { $0.stringValue == audience })
                else { return .failure(.wrongAudience) }
            }
        }
        return .success(Claims(sub: sub, role: role, exp: exp, iat: iat, nbf: nbf))
    }

    /// A cheap structural check before libjwt: size, exactly three dot-separated parts with a
    /// non-empty header and payload, base64url characters only.
    static func shapeProblem(_ token: String) -> String? {
        let utf8 = token.utf8
        if utf8.count > maxTokenBytes { return "longer than \(maxTokenBytes) bytes" }
        var dots = 0
        var partLength = [0, 0, 0]
        for c in utf8 {
            switch c {
            case UInt8(ascii: "."):
                dots += 1
                if dots > 2 { return "expected three dot-separated parts" }
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                partLength[dots] += 1
            default:
                return "characters outside base64url"
            }
        }
        if dots != 2 { return "expected three dot-separated parts" }
        if partLength[0] == 0 || partLength[1] == 0 { return "empty header or payload" }
        return nil
    }

    /// What a token's header says about how to verify it.
    struct Header {
        /// `alg`, exactly as written.
        let alg: String
        /// `kid`, when present.
        let kid: String?
        /// What `typ` says the token is.
        let typ: TokenType
    }

    /// A header's `typ` (media type names, compared without regard to case).
    enum TokenType {
        /// `JWT`, or no `typ`.
        case jwt
        /// An OAuth 2.0 access token (RFC 9068): `at+jwt` or `application/at+jwt`, as identity
        /// providers issue them; accepted with the public keys only.
        case accessToken
        /// Anything else: refused.
        case other

        init(_ typ: String) {
            switch typ.lowercased() {
            case "jwt": self = .jwt
            case "at+jwt", "application/at+jwt": self = .accessToken
            default: self = .other
            }
        }
    }

    /// A well-shaped token's header, or why it is refused: not base64url, not a JSON object, a key
    /// repeated at any depth, no string `alg`, a `kid` that is not a string.
    static func header(_ token: String) -> Result<Header, AuthFailure> {
        let end = token.utf8.firstIndex(of: UInt8(ascii: "."))!
        guard let headBytes = Base64URL.decode(token[..<end]) else { return .failure(.malformed("header is not base64url")) }
        let head: JSONObject
        switch object(headBytes) {
        case .success(let o): head = o
        case .failure(.duplicateKey): return .failure(.malformed("header has a duplicate key"))
        case .failure(.notObject): return .failure(.malformed("header is not a JSON object"))
        }
        guard let alg = head["alg"]?.stringValue else { return .failure(.malformed("header has no alg")) }
        var kid: String?
        if let k = head["kid"] {
            guard let s = k.stringValue else { return .failure(.malformed("header kid is not a string")) }
            kid = s
        }
        let typ = head["typ"].map { $0.stringValue.map(TokenType.init) ?? .other } ?? .jwt
        return .success(Header(alg: alg, kid: kid, typ: typ))
    }

    /// Why a token whose algorithm is accepted is still refused before its signature is
    /// checked: a `typ` other than JWT (or, on an RS256/ES256 token, an RFC 9068 access token's),
    /// a payload that is not base64url, not a JSON object, or repeats a key at any depth. Nil
    /// when acceptable.
    static func headerAndPayloadProblem(_ token: String, header: Header) -> AuthFailure? {
        switch header.typ {
        case .jwt: break
        case .accessToken where header.alg != JWTAlgorithm.hs256.rawValue: break
        case .accessToken: return .malformed("header typ at+jwt is accepted on RS256 and ES256 tokens only")
        case .other: return .malformed("header typ is not JWT")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard let bodyBytes = Base64URL.decode(parts[1]) else { return .malformed("payload is not base64url") }
        switch object(bodyBytes) {
        case .success: return nil
        case .failure(.duplicateKey): return .malformed("payload has a duplicate key")
        case .failure(.notObject): return .malformed("payload is not a JSON object")
        }
    }

    private enum ObjectProblem: Error { case notObject, duplicateKey }

    /// `bytes` parsed as a JSON object with duplicate keys refused; a text that parses only when
    /// duplicates are allowed is a duplicate-key problem.
    private static func object(_ bytes: [UInt8]) -> Result<JSONObject, ObjectProblem> {
        if let value = try? JSONCodec.parse(bytes, rejectDuplicateKeys: true) {
            return value.objectValue.map { .success($0) } ?? .failure(.notObject)
        }
        let lenient = try? JSONCodec.parse(bytes, rejectDuplicateKeys: false)
        return .failure(lenient == nil ? .notObject : .duplicateKey)
    }
}
