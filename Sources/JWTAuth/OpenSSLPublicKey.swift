internal import CCrypto

/// The only JWTAuth file that touches OpenSSL (libcrypto 3, through CCrypto). It reads PEM public
/// keys and builds them from JWK members, and always hands back the key re-written by OpenSSL as
/// a PEM SubjectPublicKeyInfo — the form libjwt verifies RS256/ES256 signatures with. Every
/// OpenSSL object (`BIO`, `EVP_PKEY`, `EVP_PKEY_CTX`, `BIGNUM`, `OSSL_PARAM_BLD`, `OSSL_PARAM`)
/// is created and freed inside one function by its `defer`; nothing escapes. On failure the
/// calling thread's OpenSSL error queue is cleared, so no stale error reaches the next user of
/// OpenSSL on that thread (libjwt, TLS). Keys are read at start-up only, on the loading thread;
/// `clearThreadErrors` runs on any thread that verifies tokens.
enum OpenSSLPublicKey {
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

    /// Reads the first PEM `PUBLIC KEY` block in `text`: its kind and its canonical PEM. `nil`
    /// when `text` holds no PEM public key OpenSSL can read.
    static func read(pem text: [UInt8]) -> (kind: Kind, pem: [UInt8])? {
        let key: OpaquePointer? = text.withUnsafeBytes { buf in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let key else { return failed() }
        defer { EVP_PKEY_free(key) }
        guard let pem = pem(key) else { return failed() }
        return (kind(key), pem)
    }

    /// The PEM of the RSA public key with big-endian `modulus` and `exponent`; `nil` when OpenSSL
    /// refuses them.
    static func rsa(modulus: [UInt8], exponent: [UInt8]) -> [UInt8]? {
        guard let n = BN_bin2bn(modulus, Int32(modulus.count), nil) else { return failed() }
        defer { BN_free(n) }
        guard let e = BN_bin2bn(exponent, Int32(exponent.count), nil) else { return failed() }
        defer { BN_free(e) }
        return fromData(type: "RSA") { builder in
            OSSL_PARAM_BLD_push_BN(builder, ccrypto_param_rsa_n, n) == 1
                && OSSL_PARAM_BLD_push_BN(builder, ccrypto_param_rsa_e, e) == 1
        }
    }

    /// The PEM of the P-256 public key at affine coordinates `x`, `y` (32 bytes each, big-endian);
    /// `nil` when the point is not on the curve.
    static func ecP256(x: [UInt8], y: [UInt8]) -> [UInt8]? {
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

    /// A public key of `type` from the parameters `push` adds, checked (`EVP_PKEY_public_check`),
    /// as PEM.
    private static func fromData(type: String, _ push: (OpaquePointer) -> Bool) -> [UInt8]? {
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
        defer { EVP_PKEY_free(key) }
        guard let check = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else { return failed() }
        defer { EVP_PKEY_CTX_free(check) }
        guard EVP_PKEY_public_check(check) == 1 else { return failed() }
        return pem(key) ?? failed()
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

    /// Empties this thread's OpenSSL error queue. libjwt leaves the error of a failed RSA
    /// verification there (a bad RS256 signature), where the next TLS call on the same thread —
    /// an event loop's — would take it for its own (`SSL_get_error` reads the queue).
    static func clearThreadErrors() { ERR_clear_error() }

    /// True when this thread's OpenSSL error queue holds an error (tests).
    static var threadHasError: Bool { ERR_peek_error() != 0 }

    /// Clears this thread's OpenSSL error queue and returns `nil`.
    private static func failed<T>() -> T? {
        ERR_clear_error()
        return nil
    }
}
