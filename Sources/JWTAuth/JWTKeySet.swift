/// Every key a verifier accepts, and which of them a token may be checked with. The token's
/// header never chooses how a key is used: each key verifies its one algorithm only.
///
/// - Secrets (`jwt.secret` first, then `jwt.previous_secret`) verify HS256 tokens: each is
///   tried in turn, so tokens signed with the previous secret keep working during a rotation.
/// - A public key with a `kid` (from a JWKS) verifies the tokens whose header names that `kid`,
///   and only with its algorithm; a token naming an RSA key's kid with `ES256` is refused.
/// - A public key without a `kid` (a PEM file) verifies the tokens of its algorithm that name no
///   kid, or a kid the JWKS does not hold.
public struct JWTKeySet: Sendable {
    /// A key a token may be verified with.
    enum Candidate {
        /// An HMAC secret's bytes (HS256).
        case secret([UInt8])
        /// A public key (its own algorithm).
        case publicKey(JWTPublicKey)
    }

    /// The secrets as HS256 candidates, current first.
    private let secrets: [Candidate]
    /// Keys without a `kid` (PEM files), by algorithm.
    private let unnamed: [JWTAlgorithm: [Candidate]]
    /// Keys with a `kid` (JWKS).
    private let named: [String: JWTPublicKey]
    /// The algorithms some key accepts, in `JWTAlgorithm` order.
    public let algorithms: [JWTAlgorithm]

    /// A key set of `secrets` (their UTF-8 bytes are HMAC keys; empty strings are left out) and
    /// `publicKeys`. A later key with a `kid` already held replaces the earlier.
    public init(secrets: [String], publicKeys: [JWTPublicKey] = []) {
        self.secrets = secrets.filter { !$0.isEmpty }.map { .secret(Array($0.utf8)) }
        var unnamed: [JWTAlgorithm: [Candidate]] = [:]
        var named: [String: JWTPublicKey] = [:]
        for key in publicKeys {
            if let kid = key.kid { named[kid] = key } else { unnamed[key.algorithm, default: []].append(.publicKey(key)) }
        }
        self.unnamed = unnamed
        self.named = named
        var algorithms = Set(publicKeys.map(\.algorithm))
        if !self.secrets.isEmpty { algorithms.insert(.hs256) }
        self.algorithms = algorithms.sorted()
    }

    /// The keys to try, in order, for a token whose header says `alg` and `kid`; or why none may.
    /// Secrets and PEM keys come as stored arrays; a `kid` match as a one-element array.
    func candidates(alg: String, kid: String?) -> Result<[Candidate], AuthFailure> {
        guard let algorithm = JWTAlgorithm(rawValue: alg), algorithms.contains(algorithm) else {
            return .failure(.algorithmNotAllowed(alg, accepted: algorithms))
        }
        if algorithm == .hs256 { return .success(secrets) }
        if let kid, let key = named[kid] {
            guard key.algorithm == algorithm else { return .failure(.algorithmNotAllowed(alg, accepted: [key.algorithm])) }
            return .success([.publicKey(key)])
        }
        guard let fallback = unnamed[algorithm] else { return .failure(.unknownKey) }
        return .success(fallback)
    }
}
