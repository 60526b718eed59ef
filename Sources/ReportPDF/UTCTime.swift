import TradingCore

/// UTC times as the report stores them (RFC 3339) and as the PDF prints them, without Foundation.
public enum UTCTime {
    /// Milliseconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SS[.f…]Z` (what reports store);
    /// nil for any other text.
    public static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.last == UInt8(ascii: "Z"), b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(b, 0, 4), let month = number(b, 5, 2), let day = number(b, 8, 2),
            let hour = number(b, 11, 2), let minute = number(b, 14, 2), let second = number(b, 17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var millis: Int64 = 0
        if b.count > 20 {
            guard b[19] == UInt8(ascii: "."), b.count > 21, let fraction = number(b, 20, b.count - 21) else { return nil }
            var digits = b.count - 21
            millis = fraction
            while digits > 3 { millis /= 10; digits -= 1 }
            while digits < 3 { millis *= 10; digits += 1 }
        } else if b.count != 20 {
            return nil
        }
        let days = CivilDate.days(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
    }

    private static func number(_ b: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        guard count > 0, count <= 18 else { return nil }
        var n: Int64 = 0
        for i in start..<start + count {
            guard b[i] >= 48, b[i] <= 57 else { return nil }
            n = n * 10 + Int64(b[i] - 48)
        }
        return n
    }

    /// The parts of a UTC time.
    struct Parts {
        var year, month, day, hour, minute: Int64
    }

    static func parts(_ ms: Int64) -> Parts {
        let minutes = floorDiv(ms, 60_000)
        let days = floorDiv(minutes, 1440)
        let (y, m, d) = CivilDate.date(days: days)
        let ofDay = minutes - days * 1440
        return Parts(year: y, month: m, day: d, hour: ofDay / 60, minute: ofDay % 60)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `2024-03-10 14:05` (UTC): how tables print times.
    public static func minute(_ ms: Int64) -> String {
        let p = parts(ms)
        return "\(p.year)-\(two(p.month))-\(two(p.day)) \(two(p.hour)):\(two(p.minute))"
    }
}
