/// Unpadded base64url (RFC 4648 §5), as used by JWT. Used on the refusal path to say why a token
/// failed, and by tests to build tokens by hand.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes bytes without padding.
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var it = bytes.makeIterator()
        while let a = it.next() {
            let b = it.next(), c = it.next()
            out.append(alphabet[Int(a >> 2)])
            out.append(alphabet[Int((a & 0x3) << 4 | (b ?? 0) >> 4)])
            if let b { out.append(alphabet[Int((b & 0xF) << 2 | (c ?? 0) >> 6)]) }
            if let c { out.append(alphabet[Int(c & 0x3F)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes a string's UTF-8 bytes.
    static func encode(_ s: String) -> String { encode(Array(s.utf8)) }

    /// Decodes unpadded (or padded) base64url; `nil` on any character outside the alphabet or an
    /// impossible length.
    static func decode<S: StringProtocol>(_ s: S) -> [UInt8]? {
        var vals: [UInt8] = []
        vals.reserveCapacity(s.utf8.count)
        var seenPad = false
        for c in s.utf8 {
            if c == UInt8(ascii: "=") { seenPad = true; continue }
            if seenPad { return nil }
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): vals.append(c - 65)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): vals.append(c - 97 + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): vals.append(c - 48 + 52)
            case UInt8(ascii: "-"): vals.append(62)
            case UInt8(ascii: "_"): vals.append(63)
            default: return nil
            }
        }
        if vals.count % 4 == 1 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(vals.count * 3 / 4)
        var i = 0
        while i < vals.count {
            let n = min(4, vals.count - i)
            let v0 = vals[i], v1 = vals[i + 1]
            out.append(v0 << 2 | v1 >> 4)
            if n > 2 { out.append((v1 & 0xF) << 4 | vals[i + 2] >> 2) }
            if n > 3 { out.append((vals[i + 2] & 0x3) << 6 | vals[i + 3]) }
            i += 4
        }
        return out
    }
}
