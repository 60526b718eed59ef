import TradingCore

/// The HTTP `Date` header (RFC 9110 §5.6.7, IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`): the
/// exchange's clock on every REST answer. A kline is closed when the exchange says its close time
/// has passed — judged by our own clock instead, a machine a few seconds ahead would take the
/// forming bar for a closed one, and one behind would drop closed bars.
public enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Milliseconds since the epoch of an IMF-fixdate, nil for anything else (the obsolete RFC 850
    /// and asctime forms, which no exchange sends, included).
    public static func millis(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].count == 4, parts[0].hasSuffix(","), parts[5] == "GMT",
            let day = Int64(parts[1]), (1...31).contains(day), let month = months.firstIndex(of: String(parts[2])),
            let year = Int64(parts[3]), parts[3].count == 4
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }), let h = Int64(clock[0]), let m = Int64(clock[1]),
            let s = Int64(clock[2]), h < 24, m < 60, s < 61
        else { return nil }
        let days = CivilDate.days(year: year, month: Int64(month) + 1, day: day)
        return ((days * 24 + h) * 60 + m) * 60_000 + s * 1000
    }
}
