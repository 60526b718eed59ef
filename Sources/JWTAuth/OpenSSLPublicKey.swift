internal import CCrypto

/// The only JWTAuth file that touches OpenSSL (libcrypto 3, through CCrypto): public keys read
/// from PEM or built from JWK members, parsed once, and the RS256/ES256 signature checks made with
/// them. libjwt 1.10 could verify these signatures too, but it re-reads the PEM key on every call
/// (OpenSSL 3's decoder: about 0.7 ms, against 8-60 µs for the check itself), which would make a
/// forged token 50 times dearer to refuse than an HS256 one.
///
/// Every OpenSSL object but the key (`BIO`, `EVP_PKEY_CTX`, `EVP_MD_CTX`, `BIGNUM`, `ECDSA_SIG`,
/// `OSSL_PARAM_BLD`, `OSSL_PARAM`) is created and freed inside one function by its `defer`. On any
/// failure the calling thread's OpenSSL error queue is cleared, so no stale error reaches the next
/// user of OpenSSL on that thread — an event loop's TLS calls read that queue (`SSL_get_error`).
final class OpenSSLPublicKey: @unchecked Sendable {
    // Sendable: `key` is never modified after `init`; OpenSSL 3 allows concurrent verifications
    // with one EVP_PKEY, each with its own EVP_MD_CTX (openssl-threads(7)). Freed only in deinit.
    private let key: OpaquePointer
    /// What the key is.
    let kind: Kind
    /// The key as PEM SubjectPublicKeyInfo, as OpenSSL writes it.
    let pem: [UInt8]

    /// What a parsed key is.
    enum Kind: Equatable {
        /// RSA with a modulus of this many bits.
        case rsa(bits: Int)
        /// EC on the named curve (`prime256v1` is P-256).
        case ec(curve: String)
        /// Anything else (Ed25519, DSA, ...).
        case other
    }

    /// The OpenSSL name of P-256.
    static let p256 = String(cString: ccrypto_group_p256)

    /// Takes ownership of `key` (freed here when this returns `nil`).
    private init?(taking key: OpaquePointer) {
        guard let pem = Self.pem(key) else {
            EVP_PKEY_free(key)
            return nil
        }
        self.key = key
        self.pem = pem
        self.kind = Self.kind(key)
    }

    deinit { EVP_PKEY_free(key) }

    /// The first PEM public key in `text` (SubjectPublicKeyInfo, or PKCS#1 `RSA PUBLIC KEY`);
    /// `nil` when `text` holds none OpenSSL can read.
    static func read(pem text: [UInt8]) -> OpenSSLPublicKey? {
        let key: OpaquePointer? = text.withUnsafeBytes { buf in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let key else { return failed() }
        return OpenSSLPublicKey(taking: key) ?? failed()
    }

    /// The RSA public key with big-endian `modulus` and `exponent`; `nil` when OpenSSL refuses them.
    static func rsa(modulus: [UInt8], exponent: [UInt8]) -> OpenSSLPublicKey? {
        guard let n = BN_bin2bn(modulus, Int32(modulus.count), nil) else { return failed() }
        defer { BN_free(n) }
        guard let e = BN_bin2bn(exponent, Int32(exponent.count), nil) else { return failed() }
        defer { BN_free(e) }
        return fromData(type: "RSA") { builder in
            OSSL_PARAM_BLD_push_BN(builder, ccrypto_param_rsa_n, n) == 1
                && OSSL_PARAM_BLD_push_BN(builder, ccrypto_param_rsa_e, e) == 1
        }
    }

    /// The P-256 public key at affine coordinates `x`, `y` (32 bytes each, big-endian); `nil` when
    /// the point is not on the curve.
    static func ecP256(x: [UInt8], y: [UInt8]) -> OpenSSLPublicKey? {
        // The uncompressed point encoding (SEC 1 §2.3.3): 0x04, x, y.
        let point: [UInt8] = [4] + x + y
        return point.withUnsafeBytes { octets in
            // The builder keeps references (to `octets` and to the names, static C strings from
            // the shim) until `OSSL_PARAM_BLD_to_param`, which `fromData` calls inside this closure.
            fromData(type: "EC") { builder in
                OSSL_PARAM_BLD_push_utf8_string(builder, ccrypto_param_group_name, ccrypto_group_p256, 0) == 1
                    && OSSL_PARAM_BLD_push_octet_string(builder, ccrypto_param_pub_key, octets.baseAddress, octets.count) == 1
            }
        }
    }

    /// True when `signature` is this RSA key's RS256 signature (RSASSA-PKCS1-v1_5, SHA-256) of
    /// `message`.
    func verifiesRS256(_ message: [UInt8], signature: [UInt8]) -> Bool {
        verifySHA256(message, der: signature)
    }

    /// True when `signature` is this P-256 key's ES256 signature of `message`: JWS carries
    /// ECDSA's (r, s) as 64 raw bytes (RFC 7518 §3.4), OpenSSL wants them DER-encoded.
    func verifiesES256(_ message: [UInt8], signature: [UInt8]) -> Bool {
        guard signature.count == 64, let sig = ECDSA_SIG_new() else { return Self.refused() }
        defer { ECDSA_SIG_free(sig) }
        guard let r = BN_bin2bn(signature, 32, nil) else { return Self.refused() }
        guard let s = signature.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress! + 32, 32, nil) }) else {
            BN_free(r)
            return Self.refused()
        }
        guard ECDSA_SIG_set0(sig, r, s) == 1 else {  // on success `sig` owns r and s
            BN_free(r)
            BN_free(s)
            return Self.refused()
        }
        let length = i2d_ECDSA_SIG(sig, nil)
        guard length > 0 else { return Self.refused() }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buf in
            var cursor = buf.baseAddress
            return i2d_ECDSA_SIG(sig, &cursor)
        }
        guard written == length else { return Self.refused() }
        return verifySHA256(message, der: der)
    }

    /// One `EVP_DigestVerify` with SHA-256 and this key.
    private func verifySHA256(_ message: [UInt8], der signature: [UInt8]) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { return Self.refused() }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, EVP_sha256(), nil, key) == 1,
            EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
        else { return Self.refused() }
        return true
    }

    /// A public key of `type` from the parameters `push` adds, checked (`EVP_PKEY_public_check`).
    private static func fromData(type: String, _ push: (OpaquePointer) -> Bool) -> OpenSSLPublicKey? {
        guard let builder = OSSL_PARAM_BLD_new() else { return failed() }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard push(builder), let params = OSSL_PARAM_BLD_to_param(builder) else { return failed() }
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { return failed() }
        defer { EVP_PKEY_CTX_free(ctx) }
        var made: OpaquePointer?
        guard EVP_PKEY_fromdata_init(ctx) == 1, EVP_PKEY_fromdata(ctx, &made, ccrypto_evp_pkey_public_key, params) == 1,
            let key = made
        else { return failed() }
        guard let check = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else {
            EVP_PKEY_free(key)
            return failed()
        }
        defer { EVP_PKEY_CTX_free(check) }
        guard EVP_PKEY_public_check(check) == 1 else {
            EVP_PKEY_free(key)
            return failed()
        }
        return OpenSSLPublicKey(taking: key) ?? failed()
    }

    private static func kind(_ key: OpaquePointer) -> Kind {
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA: return .rsa(bits: Int(EVP_PKEY_get_bits(key)))
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1 else { return .ec(curve: "unknown") }
            return .ec(curve: String(decoding: name[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        default: return .other
        }
    }

    /// `key` written as PEM SubjectPublicKeyInfo into a memory BIO and copied out.
    private static func pem(_ key: OpaquePointer) -> [UInt8]? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PUBKEY(bio, key) == 1 else { return nil }
        var data: UnsafeMutablePointer<CChar>?
        let length = withUnsafeMutablePointer(to: &data) { BIO_ctrl(bio, BIO_CTRL_INFO, 0, $0) }
        guard length > 0, let data else { return nil }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// True when this thread's OpenSSL error queue holds an error (tests).
    static var threadHasError: Bool { ERR_peek_error() != 0 }

    /// Clears this thread's OpenSSL error queue and returns `false`.
    private static func refused() -> Bool {
        ERR_clear_error()
        return false
    }

    /// Clears this thread's OpenSSL error queue and returns `nil`.
    private static func failed<T>() -> T? {
        ERR_clear_error()
        return nil
    }
}
