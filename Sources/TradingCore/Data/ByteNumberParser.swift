/// Number and time parsing straight from UTF-8 bytes, with no String or Foundation per value.
enum ByteNumberParser {
    private static let powersOfTen: [Double] = (0...22).map { e in
        var x = 1.0
        for _ in 0..<e { x *= 10 }
        return x
    }

    /// Parses a decimal number (`-12.5`, `3e-4`, `+7`). Exact (correctly rounded) on the fast path
    /// (≤ 19 significant digits, |exponent| ≤ 22, mantissa ≤ 2^53); otherwise falls back to the
    /// standard library. nil for anything else, including empty, NaN and infinities.
    static func parseDouble(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        var i = start
        guard i < end else { return nil }
        var negative = false
        if p[i] == 45 || p[i] == 43 { negative = p[i] == 45; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0, significant = 0, exponent = 0
        var exact = true
        while i < end, p[i] &- 48 < 10 {
            if significant < 19 {
                mantissa = mantissa &* 10 &+ UInt64(p[i] &- 48)
                if mantissa != 0 { significant += 1 }
            } else {
                exact = false; exponent += 1
            }
            digits += 1; i += 1
        }
        if i < end && p[i] == 46 {
            i += 1
            while i < end, p[i] &- 48 < 10 {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(p[i] &- 48)
                    if mantissa != 0 { significant += 1 }
                    exponent -= 1
                } else {
                    exact = false
                }
                digits += 1; i += 1
            }
        }
        guard digits > 0 else { return nil }
        if i < end && (p[i] == 101 || p[i] == 69) {
            i += 1
            var expNegative = false
            if i < end && (p[i] == 45 || p[i] == 43) { expNegative = p[i] == 45; i += 1 }
            var e = 0, expDigits = 0
            while i < end, p[i] &- 48 < 10 {
                if e < 100_000 { e = e * 10 + Int(p[i] &- 48) }
                expDigits += 1; i += 1
            }
            guard expDigits > 0 else { return nil }
            exponent += expNegative ? -e : e
        }
        guard i == end else { return nil }
        if exact && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            if exponent < 0 { value /= powersOfTen[-exponent] } else if exponent > 0 { value *= powersOfTen[exponent] }
            return negative ? -value : value
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: p[start..<end]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    private static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Parses a time: epoch seconds, milliseconds, microseconds or nanoseconds (told apart by
    /// magnitude: below 10^11 seconds, below 10^14 ms, below 10^17 µs, else ns; a fraction is
    /// allowed), or ISO 8601 `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH[:MM]|±HHMM]` (UTC when no
    /// zone is given). Returns ms since the epoch, or nil.
    static func parseTime(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        guard start < end else { return nil }
        // ISO dates have '-' at position 4.
        if end - start >= 10 && p[start + 4] == 45 { return parseISO(p, start, end) }
        guard let v = parseDouble(p, start, end) else { return nil }
        let magnitude = abs(v)
        let ms: Double
        if magnitude < 1e11 {
            ms = v * 1000
        } else if magnitude < 1e14 {
            ms = v
        } else if magnitude < 1e17 {
            ms = v / 1000
        } else {
            ms = v / 1e6
        }
        guard ms.isFinite, abs(ms) < 9e15 else { return nil }
        return Int64(ms.rounded())
    }

    private static func digits(_ p: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int, _ end: Int) -> Int? {
        guard at + count <= end else { return nil }
        var v = 0
        for k in at..<(at + count) {
            let d = p[k] &- 48
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    private static func parseISO(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        guard let year = digits(p, start, 4, end), p[start + 4] == 45,
            let month = digits(p, start + 5, 2, end), p[start + 7] == 45,
            let day = digits(p, start + 8, 2, end),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        var ms = CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)) * 86_400_000
        var i = start + 10
        if i == end { return ms }
        guard p[i] == 84 || p[i] == 32 || p[i] == 116 else { return nil }  // 'T', ' ', 't'
        i += 1
        guard let hour = digits(p, i, 2, end), i + 2 < end, p[i + 2] == 58,
            let minute = digits(p, i + 3, 2, end), hour < 24, minute < 60
        else { return nil }
        i += 5
        var second = 0, millis = 0
        if i < end && p[i] == 58 {
            guard let s = digits(p, i + 1, 2, end), s <= 60 else { return nil }
            second = s
            i += 3
            if i < end && (p[i] == 46 || p[i] == 44) {
                i += 1
                var scale = 100, fractionDigits = 0
                while i < end, p[i] &- 48 < 10 {
                    millis += Int(p[i] &- 48) * scale
                    scale /= 10; fractionDigits += 1; i += 1
                }
                guard fractionDigits > 0 else { return nil }
            }
        }
        ms += Int64(hour * 3_600_000 + minute * 60_000 + second * 1000 + millis)
        if i == end { return ms }
        if p[i] == 90 || p[i] == 122 { return i + 1 == end ? ms : nil }  // 'Z'
        guard p[i] == 43 || p[i] == 45 else { return nil }
        let sign: Int64 = p[i] == 45 ? -1 : 1
        i += 1
        guard let offsetHours = digits(p, i, 2, end), offsetHours <= 23 else { return nil }
        i += 2
        var offsetMinutes = 0
        if i < end {
            if p[i] == 58 { i += 1 }
            guard let m = digits(p, i, 2, end), m < 60, i + 2 == end else { return nil }
            offsetMinutes = m
        }
        return ms - sign * Int64(offsetHours * 3_600_000 + offsetMinutes * 60_000)
    }
}
