/// The signature algorithms a token may carry. Each key accepts exactly one: a secret HS256, an
/// RSA public key RS256, an EC P-256 public key ES256 (the algorithm is pinned to the key's type,
/// never taken from the token).
public enum JWTAlgorithm: String, Sendable, CaseIterable, Comparable {
    /// HMAC-SHA256 with a shared secret (`jwt.secret`, `jwt.previous_secret`).
    case hs256 = "HS256"
    /// RSASSA-PKCS1-v1_5 with SHA-256 and an RSA public key.
    case rs256 = "RS256"
    /// ECDSA on P-256 with SHA-256 and an EC public key.
    case es256 = "ES256"

    /// Orders as declared (HS256, RS256, ES256), for messages.
    public static func < (a: JWTAlgorithm, b: JWTAlgorithm) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
