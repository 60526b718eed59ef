import JSONCodec

/// Reads a JSON Web Key Set (RFC 7517 §5: `{"keys":[...]}`) as an identity provider publishes
/// it, keeping the keys that verify signatures with an algorithm the gateway accepts:
///
/// - `kty` `RSA` (`n`, `e`) → RS256; `kty` `EC` with `crv` `P-256` (`x`, `y`) → ES256;
/// - skipped, not refused: keys with `use` other than `sig`, an `alg` other than the pinned one
///   (`RS512`, `RSA-OAEP`, ...), another `kty` (`oct`, `OKP`) or curve — providers publish those
///   next to their signing keys;
/// - refused (the whole set): not JSON, no `keys` array, a kept key without a `kid`, a `kid`
///   used twice, members that are not base64url or do not make a valid key, and a set with no
///   key kept at all.
public enum JWKS {
    /// The keys of `bytes`, in file order, or why the set cannot be used.
    public static func parse(_ bytes: [UInt8]) -> Result<[JWTPublicKey], JWTKeyError> {
        guard let value = try? JSONCodec.parse(bytes, rejectDuplicateKeys: true) else {
            return .failure(JWTKeyError("is not valid JSON (or repeats a member)"))
        }
        guard let entries = value["keys"]?.arrayValue else {
            return .failure(JWTKeyError("must be a JSON object with a \"keys\" array"))
        }
        var keys: [JWTPublicKey] = []
        var seen: Set<String> = []
        for (index, entry) in entries.enumerated() {
            guard let jwk = entry.objectValue else { return .failure(JWTKeyError("keys[\(index)] is not an object")) }
            guard let kind = usableKind(jwk) else { continue }
            guard let kid = jwk["kid"]?.stringValue, !kid.isEmpty else {
                return .failure(JWTKeyError("keys[\(index)] (\(kind.algorithm.rawValue)) has no kid; tokens pick keys by kid"))
            }
            guard seen.insert(kid).inserted else { return .failure(JWTKeyError("kid \"\(kid)\" appears twice")) }
            switch key(jwk, kind: kind, kid: kid) {
            case let .success(k): keys.append(k)
            case let .failure(e): return .failure(e)
            }
        }
        guard !keys.isEmpty else {
            return .failure(JWTKeyError("holds no signing key the gateway can use (kty RSA for RS256, or EC P-256 for ES256)"))
        }
        return .success(keys)
    }

    /// The key types the gateway verifies with, each pinned to one algorithm.
    private enum Kind {
        case rsa, p256

        var algorithm: JWTAlgorithm { self == .rsa ? .rs256 : .es256 }
    }

    /// The kind of a JWK to keep, or `nil` when the key is one to skip.
    private static func usableKind(_ jwk: JSONObject) -> Kind? {
        if let use = jwk["use"], use.stringValue != "sig" { return nil }
        let kind: Kind
        switch (jwk["kty"]?.stringValue, jwk["crv"]?.stringValue) {
        case ("RSA"?, _): kind = .rsa
        case ("EC"?, "P-256"?): kind = .p256
        default: return nil
        }
        if let alg = jwk["alg"], alg.stringValue != kind.algorithm.rawValue { return nil }
        return kind
    }

    private static func key(_ jwk: JSONObject, kind: Kind, kid: String) -> Result<JWTPublicKey, JWTKeyError> {
        func member(_ name: String) -> Result<[UInt8], JWTKeyError> {
            guard let text = jwk[name]?.stringValue, let bytes = Base64URL.decode(text), !bytes.isEmpty else {
                return .failure(JWTKeyError("key \"\(kid)\": member \(name) must be non-empty base64url"))
            }
            return .success(bytes)
        }
        switch kind {
        case .rsa:
            return member("n").flatMap { n in
                member("e").flatMap { e in JWTPublicKey.fromRSA(modulus: n, exponent: e, kid: kid) }
            }
        case .p256:
            return member("x").flatMap { x in member("y").flatMap { y in JWTPublicKey.fromP256(x: x, y: y, kid: kid) } }
        }
    }
}
