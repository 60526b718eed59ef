/// The verified identity carried by a token (SPEC §6).
public struct Claims: Sendable, Equatable {
    /// `sub`: who the caller is (non-empty, at most 256 bytes).
    public var sub: String
    /// `role`: what the caller may do.
    public var role: Role
    /// `exp`: expiry, epoch seconds. The token is refused from this second on.
    public var exp: Int64
    /// `iat`: issue time, epoch seconds, when present.
    public var iat: Int64?
    /// `nbf`: not-before, epoch seconds, when present.
    public var nbf: Int64?

    /// Creates claims (tests and the signer's callers use this; the verifier builds them).
    public init(sub: String, role: Role, exp: Int64, iat: Int64? = nil, nbf: Int64? = nil) {
        self.sub = sub
        self.role = role
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
    }

    /// True when the token has expired at `now` (epoch seconds).
    public func isExpired(now: Int64) -> Bool { now >= exp }
}

/// Why a token was refused. `reason` is a short human sentence for the `error` frame / 401 body;
/// it never echoes the token. The gateway answers every case with `UNAUTHENTICATED` (HTTP 401,
/// close 4401).
public enum AuthFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// No token was presented.
    case missingToken
    /// Not a compact JWS: wrong number of parts, bad base64url, header/payload not JSON objects,
    /// too long.
    case malformed(String)
    /// The header's `alg` (first value) is not one a configured key accepts (`none`, HS384, an
    /// RS256 token when only secrets are configured, ES256 naming an RSA key's `kid`, ...);
    /// `accepted` lists what would be.
    case algorithmNotAllowed(String, accepted: [JWTAlgorithm] = [.hs256])
    /// The token names no key the gateway holds: its `kid` is not in the JWKS and no PEM key of
    /// its algorithm is configured.
    case unknownKey
    /// Signature does not match (wrong key or tampered token).
    case badSignature
    /// `exp` is now or in the past.
    case expired
    /// `nbf` is in the future (beyond the leeway).
    case notYetValid
    /// `iat` is in the future (beyond the leeway).
    case issuedInFuture
    /// A required claim (`sub`, `role`, `exp`) is absent (or not a string where one is needed).
    case missingClaim(String)
    /// A claim has the wrong type or value.
    case invalidClaim(String)
    /// `iss` differs from the configured issuer.
    case wrongIssuer
    /// `aud` does not name the configured audience.
    case wrongAudience

    /// A short human reason.
    public var reason: String {
        switch self {
        case .missingToken: return "missing token"
        case let .malformed(why): return "malformed token: \(why)"
        case let .algorithmNotAllowed(alg, accepted):
            // The header is the client's, unverified: its alg is named only when it is a short
            // plain word, so the reason stays short ASCII (it is also a 123-byte close reason).
            let plain = (1...16).contains(alg.utf8.count) && alg.utf8.allSatisfy(Self.isPlainAlgorithmByte)
            let names = accepted.map(\.rawValue).joined(separator: ", ")
            let allowed =
                accepted.count == 1 ? "(\(names) only)" : accepted.isEmpty ? "(no key configured)" : "(accepted: \(names))"
            return plain ? "token algorithm \(alg) not allowed \(allowed)" : "token algorithm not allowed \(allowed)"
        case .unknownKey: return "token key id (kid) not known"
        case .badSignature: return "bad token signature"
        case .expired: return "token expired"
        case .notYetValid: return "token not valid yet (nbf)"
        case .issuedInFuture: return "token issued in the future (iat)"
        case let .missingClaim(name): return "token has no \(name) claim"
        case let .invalidClaim(why): return "bad token claim: \(why)"
        case .wrongIssuer: return "token issuer not accepted"
        case .wrongAudience: return "token audience not accepted"
        }
    }

    private static func isPlainAlgorithmByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 95
    }

    /// The same as `reason`.
    public var description: String { reason }
}
