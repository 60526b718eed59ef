import Foundation

/// Fixed-precision money for the ledger: amounts are kept as integer units of 10⁻⁸ and stored
/// in Redis as decimal text with at most 8 decimals (the Lua scripts compute in the same units).
/// Rounding happens once, at the boundary, so sums over the ledger are exact.
public enum Money {
    /// Units per whole quote unit (10⁸).
    public static let unitsPerWhole: Int64 = 100_000_000

    /// Decimal text (`"-12.345"`, `"100000"`) to integer units, exactly; nil for malformed text,
    /// more than 8 decimals, or a magnitude beyond Int64 units (about 92 billion).
    public static func units(_ text: String) -> Int64? {
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, !wholeText.isEmpty, wholeText.allSatisfy(\.isASCII),
            let whole = Int64(wholeText)
        else { return nil }
        var frac: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 8, f.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int64(f) else { return nil }
            frac = v * Int64(pow(10.0, Double(8 - f.count)))
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: unitsPerWhole)
        guard !overflow, scaled <= Int64.max - frac else { return nil }
        let u = scaled + frac
        return negative ? -u : u
    }

    /// Integer units to decimal text without trailing zeros.
    public static func text(units u: Int64) -> String {
        let negative = u < 0
        let m = u.magnitude
        let whole = m / UInt64(unitsPerWhole)
        let frac = m % UInt64(unitsPerWhole)
        var s = String(whole)
        if frac > 0 {
            var f = String(frac)
            f = String(repeating: "0", count: 8 - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            s += "." + f
        }
        return negative && m > 0 ? "-" + s : s
    }

    /// A Double rounded to 8 decimals, as decimal text (what the scripts receive).
    public static func text(_ value: Double) -> String {
        text(units: Int64((value * Double(unitsPerWhole)).rounded()))
    }

    /// A stored decimal text as a Double for JSON answers.
    public static func double(_ text: String) -> Double? { Double(text) }
}
