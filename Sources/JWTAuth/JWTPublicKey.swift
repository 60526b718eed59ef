/// A public key that verifies identity-provider tokens, with the one algorithm it accepts: an RSA
/// key (at least 2048 bits) verifies RS256 only, an EC P-256 key ES256 only. Built from a PEM
/// file (`jwt.public_key_file`) or a JWK (`jwt.jwks_file`, see `JWKS`); immutable, any thread may
/// share it.
public struct JWTPublicKey: Sendable, Equatable {
    /// The least RSA modulus size accepted, in bits.
    public static let minimumRSABits = 2048

    /// The algorithm this key verifies (pinned to the key's type).
    public let algorithm: JWTAlgorithm
    /// The JWK `kid` a token names to pick this key; `nil` for a key from a PEM file.
    public let kid: String?
    /// The parsed key, which checks signatures.
    let key: OpenSSLPublicKey
    /// The key as PEM SubjectPublicKeyInfo, as OpenSSL writes it.
    var pem: [UInt8] { key.pem }

    /// Same algorithm, kid and key.
    public static func == (a: JWTPublicKey, b: JWTPublicKey) -> Bool {
        a.algorithm == b.algorithm && a.kid == b.kid && a.pem == b.pem
    }

    /// The key in `text` (a PEM `-----BEGIN PUBLIC KEY-----` block; OpenSSL also reads a PKCS#1
    /// `RSA PUBLIC KEY`), or why it cannot be used. The message suits `<key>: <message>` and never
    /// repeats the file's content.
    public static func fromPEM(_ text: [UInt8]) -> Result<JWTPublicKey, JWTKeyError> {
        guard let key = OpenSSLPublicKey.read(pem: text) else {
            let s = String(decoding: text, as: UTF8.self)
            if s.contains("BEGIN CERTIFICATE") {
                return .failure(JWTKeyError("holds a certificate; extract its key with `openssl x509 -in FILE -pubkey -noout`"))
            }
            if s.contains("PRIVATE KEY") {
                return .failure(JWTKeyError("holds a private key; give the public key (`openssl pkey -in FILE -pubout`)"))
            }
            return .failure(JWTKeyError("is not a PEM public key (-----BEGIN PUBLIC KEY-----)"))
        }
        return pinned(key)
    }

    /// A key from JWK members already decoded (`JWKS` does the JSON).
    static func fromRSA(modulus: [UInt8], exponent: [UInt8], kid: String) -> Result<JWTPublicKey, JWTKeyError> {
        let bits = (modulus.drop { $0 == 0 }.count) * 8
        guard bits >= minimumRSABits else {
            return .failure(JWTKeyError("key \"\(kid)\": RSA modulus of about \(bits) bits, at least \(minimumRSABits) needed"))
        }
        guard let key = OpenSSLPublicKey.rsa(modulus: modulus, exponent: exponent) else {
            return .failure(JWTKeyError("key \"\(kid)\": not a valid RSA public key"))
        }
        return .success(JWTPublicKey(algorithm: .rs256, kid: kid, key: key))
    }

    /// A P-256 key from JWK `x` and `y` (32 bytes each).
    static func fromP256(x: [UInt8], y: [UInt8], kid: String) -> Result<JWTPublicKey, JWTKeyError> {
        guard x.count == 32, y.count == 32 else {
            return .failure(JWTKeyError("key \"\(kid)\": P-256 x and y must be 32 bytes each"))
        }
        guard let key = OpenSSLPublicKey.ecP256(x: x, y: y) else {
            return .failure(JWTKeyError("key \"\(kid)\": the point (x, y) is not on P-256"))
        }
        return .success(JWTPublicKey(algorithm: .es256, kid: kid, key: key))
    }

    /// A PEM file's key with the algorithm its type pins, or why it cannot be used.
    private static func pinned(_ key: OpenSSLPublicKey) -> Result<JWTPublicKey, JWTKeyError> {
        switch key.kind {
        case let .rsa(bits):
            guard bits >= minimumRSABits else {
                return .failure(JWTKeyError("RSA key of \(bits) bits, at least \(minimumRSABits) needed"))
            }
            return .success(JWTPublicKey(algorithm: .rs256, kid: nil, key: key))
        case let .ec(curve):
            guard curve == OpenSSLPublicKey.p256 else {
                return .failure(JWTKeyError("EC key on curve \(curve); only P-256 (prime256v1, for ES256) is supported"))
            }
            return .success(JWTPublicKey(algorithm: .es256, kid: nil, key: key))
        case .other:
            return .failure(JWTKeyError("key type not supported (RSA for RS256, or EC P-256 for ES256)"))
        }
    }

    /// True when `signature` is this key's signature of `message` with its algorithm.
    func verifies(_ message: [UInt8], signature: [UInt8]) -> Bool {
        algorithm == .es256 ? key.verifiesES256(message, signature: signature) : key.verifiesRS256(message, signature: signature)
    }
}

/// Why a public key or JWKS cannot be used: one sentence, never the key material.
public struct JWTKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let message: String

    /// An error saying `message`.
    public init(_ message: String) { self.message = message }

    /// The same as `message`.
    public var description: String { message }
}
