/// UTC calendar months on epoch milliseconds, for the `1M` interval (no Foundation calendar: the
/// civil-from-days arithmetic of H. Hinnant's `chrono` date algorithms, exact for every Int64
/// millisecond a bar can carry).
enum CalendarMonth {
    /// Milliseconds of 00:00 UTC on the first of the month containing `time`.
    static func start(ofMonthContaining time: Int64) -> Int64 {
        let (y, m, _) = civil(fromDays: floorDiv(time, KlineInterval.dayMillis))
        return days(year: y, month: m, day: 1) * KlineInterval.dayMillis
    }

    /// Milliseconds of 00:00 UTC on the first of the month after the one containing `time`.
    static func start(ofMonthAfter time: Int64) -> Int64 { start(ofMonthContaining: time, plus: 1) }

    /// Milliseconds of 00:00 UTC on the first of the month `months` months (may be negative)
    /// after the one containing `time`.
    static func start(ofMonthContaining time: Int64, plus months: Int64) -> Int64 {
        let (y, m, _) = civil(fromDays: floorDiv(time, KlineInterval.dayMillis))
        let total = y * 12 + (m - 1) + months
        let year = floorDiv(total, 12)
        return days(year: year, month: total - year * 12 + 1, day: 1) * KlineInterval.dayMillis
    }

    /// True when `time` is 00:00 UTC on the first of a month.
    static func isMonthStart(_ time: Int64) -> Bool { start(ofMonthContaining: time) == time }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Days since 1970-01-01 of a civil date.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
