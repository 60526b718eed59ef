import TradingCore

/// UTC calendar months on epoch milliseconds, for the `1M` interval (no Foundation calendar: the
/// civil-from-days arithmetic of H. Hinnant's `chrono` date algorithms, exact for every Int64
/// millisecond a bar can carry).
enum CalendarMonth {
    /// Milliseconds of 00:00 UTC on the first of the month containing `time`.
    static func start(ofMonthContaining time: Int64) -> Int64 {
        let (y, m, _) = CivilDate.date(days: floorDiv(time, KlineInterval.dayMillis))
        return CivilDate.days(year: y, month: m, day: 1) * KlineInterval.dayMillis
    }

    /// Milliseconds of 00:00 UTC on the first of the month after the one containing `time`.
    static func start(ofMonthAfter time: Int64) -> Int64 { start(ofMonthContaining: time, plus: 1) }

    /// Milliseconds of 00:00 UTC on the first of the month `months` months (may be negative)
    /// after the one containing `time`.
    static func start(ofMonthContaining time: Int64, plus months: Int64) -> Int64 {
        let (y, m, _) = CivilDate.date(days: floorDiv(time, KlineInterval.dayMillis))
        let total = y * 12 + (m - 1) + months
        let year = floorDiv(total, 12)
        return CivilDate.days(year: year, month: total - year * 12 + 1, day: 1) * KlineInterval.dayMillis
    }

    /// True when `time` is 00:00 UTC on the first of a month.
    static func isMonthStart(_ time: Int64) -> Bool { start(ofMonthContaining: time) == time }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

}
