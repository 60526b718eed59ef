/// The exchanges' decimal strings (`"0.01634790"`, `"17071"`): an optional `-`, digits, and an
/// optional fraction. No exponent, no spaces, no `nan`/`inf`, no hex: what the documented
/// payloads hold, nothing `Double.init(String)` would also take.
enum DecimalString {
    /// The value of `s`, or nil when it is not a plain decimal.
    static func parse(_ s: String) -> Double? {
        var digits = 0
        var dot = false
        for (i, b) in s.utf8.enumerated() {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "-") where i == 0: continue
            case UInt8(ascii: "."):
                guard !dot, digits > 0 else { return nil }
                dot = true
            default: return nil
            }
        }
        guard digits > 0, s.utf8.last != UInt8(ascii: ".") else { return nil }
        return Double(s)
    }

    /// True when `s` is a non-empty string of digits (Bybit's string timestamps).
    static func isInteger(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 18 && s.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
