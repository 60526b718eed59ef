import TradingCore

/// Times of stored ledger records to epoch milliseconds. The scripts write
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`; that form (with or without the fraction) is read here without
/// Foundation, since the read index parses one per record; anything else RFC 3339 (an offset)
/// goes through `KlineEvent.parseRFC3339`.
enum LedgerTime {
    /// Epoch milliseconds of an RFC 3339 time, nil when it is not one.
    static func millis(_ text: String) -> Int64? {
        if let fast = utcMillis(text) { return fast }
        return KlineEvent.parseRFC3339(text)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` (also `t`/`z` and a space for `T`), else nil.
    static func utcMillis(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { b -> Int64? in
            guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116 || b[10] == 32,
                b[13] == 58, b[16] == 58, b[b.count - 1] == 90 || b[b.count - 1] == 122
            else { return nil }
            func num(_ at: Int, _ width: Int) -> Int64? {
                var v: Int64 = 0
                for i in at..<(at + width) {
                    let c = b[i]
                    guard c >= 48, c <= 57 else { return nil }
                    v = v * 10 + Int64(c - 48)
                }
                return v
            }
            guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
                let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
            else { return nil }
            var ms: Int64 = 0
            let end = b.count - 1
            if end > 19 {
                guard b[19] == 46, end - 20 >= 1, end - 20 <= 9, let frac = num(20, end - 20) else { return nil }
                var scaled = frac
                var digits = end - 20
                while digits > 3 { scaled /= 10; digits -= 1 }
                while digits < 3 { scaled *= 10; digits += 1 }
                ms = scaled
            } else if end != 19 {
                return nil
            }
            let days = CivilDate.days(year: y, month: mo, day: d)
            return ((days * 86_400 + h * 3600 + mi * 60 + s) * 1000) + ms
        }
    }

    /// `YYYY-MM-DD` of a UTC day number (days since 1970-01-01).
    static func date(day: Int64) -> String {
        String(RFC3339.format(milliseconds: day * 86_400_000).prefix(10))
    }
}
