/// RFC 3339 UTC timestamps for reports, without Foundation.
public enum RFC3339 {
    /// Formats milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`, adding `.mmm` only
    /// when the milliseconds are not zero. Example: `0` → `1970-01-01T00:00:00Z`.
    public static func format(milliseconds ms: Int64) -> String {
        var formatter = Formatter()
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Formatter.capacity) { out in
            let count = formatter.write(milliseconds: ms, into: out)
            return String(decoding: UnsafeBufferPointer(rebasing: out[..<count]), as: UTF8.self)
        }
    }

    /// Formats many times in a row without a `String` each, reusing the date part of the
    /// previous call when the day is the same: a report formats one time per bar, in order.
    public struct Formatter {
        /// Bytes `write` may need (years beyond 9999 or before 0 take more than 24).
        public static let capacity = 48
        private var day = Int64.min
        private var date: (year: Int64, month: Int64, day: Int64) = (0, 0, 0)
        /// `YYYY-MM-DDT` of `day` when the year has four digits.
        private var prefix: (UInt64, UInt64) = (0, 0)

        /// A formatter with nothing cached.
        public init() {}

        /// Writes the text of `RFC3339.format(milliseconds:)` at the start of `out` (at least
        /// `capacity` bytes) and returns its length. The text is ASCII letters, digits and
        /// `-:.` only, so it is also valid inside a JSON string as it is.
        public mutating func write(milliseconds ms: Int64, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
            let (secs, millis) = floorDivide(ms, 1000)
            let (days, secOfDay) = floorDivide(secs, 86_400)
            if days != day {
                day = days
                date = CivilDate.date(days: days)
                withUnsafeMutableBytes(of: &prefix) { raw in
                    let text = raw.bindMemory(to: UInt8.self)
                    Self.put(date.year, 4, into: text, at: 0); text[4] = UInt8(ascii: "-")
                    Self.put(date.month, 2, into: text, at: 5); text[7] = UInt8(ascii: "-")
                    Self.put(date.day, 2, into: text, at: 8); text[10] = UInt8(ascii: "T")
                }
            }
            guard (0...9999).contains(date.year) else {
                var text = formatAnyYear(date.year, date.month, date.day, secOfDay, millis)
                return text.withUTF8 { utf8 in
                    let n = min(utf8.count, out.count)
                    for i in 0..<n { out[i] = utf8[i] }
                    return n
                }
            }
            withUnsafeBytes(of: prefix) { raw in
                for i in 0..<11 { out[i] = raw[i] }
            }
            Self.put(secOfDay / 3600, 2, into: out, at: 11); out[13] = UInt8(ascii: ":")
            Self.put(secOfDay % 3600 / 60, 2, into: out, at: 14); out[16] = UInt8(ascii: ":")
            Self.put(secOfDay % 60, 2, into: out, at: 17)
            var count = 20
            if millis != 0 {
                out[19] = UInt8(ascii: ".")
                Self.put(millis, 3, into: out, at: 20)
                count = 24
            }
            out[count - 1] = UInt8(ascii: "Z")
            return count
        }

        private static func put(_ value: Int64, _ width: Int, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
            var v = value
            for i in stride(from: start + width - 1, through: start, by: -1) {
                out[i] = UInt8(truncatingIfNeeded: v % 10) &+ 48
                v /= 10
            }
        }
    }

    /// The same for years outside 0...9999 (more digits or a sign).
    private static func formatAnyYear(_ y: Int64, _ m: Int64, _ d: Int64, _ secOfDay: Int64, _ millis: Int64) -> String {
        let hh = secOfDay / 3600, mm = (secOfDay % 3600) / 60, ss = secOfDay % 60
        var s = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
        s += "T" + pad(hh, 2) + ":" + pad(mm, 2) + ":" + pad(ss, 2)
        if millis != 0 { s += "." + pad(millis, 3) }
        return s + "Z"
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b, r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
