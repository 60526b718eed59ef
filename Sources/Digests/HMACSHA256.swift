import CCrypto

/// HMAC-SHA256 (RFC 2104 with SHA-256) through OpenSSL's one-shot `HMAC()`: the signature of a
/// webhook body.
public enum HMACSHA256 {
    /// The 32-byte MAC of `message` under `key` (a key of any length; longer than 64 bytes is
    /// hashed first, as the RFC says).
    public static func mac(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let keyBytes = Array(key)
        let messageBytes = Array(message)
        let result = keyBytes.withUnsafeBytes { k in
            messageBytes.withUnsafeBytes { m in
                out.withUnsafeMutableBufferPointer { o in
                    // A null key pointer with length 0 is refused by some OpenSSL versions: pass a
                    // valid pointer to an empty buffer instead.
                    withUnsafeBytes(of: UInt8(0)) { empty in
                        HMAC(
                            EVP_sha256(), k.baseAddress ?? empty.baseAddress, Int32(k.count),
                            m.baseAddress?.assumingMemoryBound(to: UInt8.self)
                                ?? empty.baseAddress?.assumingMemoryBound(to: UInt8.self),
                            m.count, o.baseAddress, &length)
                    }
                }
            }
        }
        // HMAC fails only when memory cannot be allocated.
        precondition(result != nil, "HMAC(SHA-256) failed")
        return Array(out[0..<Int(length)])
    }

    /// The MAC of `message`'s UTF-8 bytes under `key`'s, as 64 lowercase hex digits.
    public static func hex(key: String, message: some Collection<UInt8>) -> String {
        hexDigits(mac(key: Array(key.utf8), message: message))
    }

    /// `bytes` as lowercase hex.
    static func hexDigits(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for b in bytes {
            text.append(digits[Int(b >> 4)])
            text.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
