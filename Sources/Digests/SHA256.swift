import CCrypto

/// SHA-256 through OpenSSL's libcrypto (the only importer of CCrypto).
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = Array(bytes).withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        // EVP_Digest fails only when memory cannot be allocated.
        precondition(ok == 1, "EVP_Digest(SHA-256) failed")
        return Array(out[0..<Int(length)])
    }

    /// The digest of `bytes` as 64 lowercase hex digits (what `sha256sum` prints).
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for b in digest(bytes) {
            text.append(digits[Int(b >> 4)])
            text.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The hex digest of `text`'s UTF-8 bytes.
    public static func hex(_ text: String) -> String { hex(Array(text.utf8)) }
}
