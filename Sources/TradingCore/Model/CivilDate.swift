/// Proleptic Gregorian dates as day counts since 1970-01-01 and back, in UTC, with no Foundation
/// calendar: H. Hinnant's `days_from_civil` / `civil_from_days` over 400-year eras, exact for every
/// day an `Int64` millisecond time can name. The one copy of this arithmetic: timestamps, CSV
/// dates, job date ranges and calendar-month bars all use it.
public enum CivilDate {
    /// Days since 1970-01-01 of `year`-`month`-`day` (month 1...12; day 1...31, not checked
    /// against the month's length).
    @inlinable
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400  // [0, 399]
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1  // [0, 365], March = 0
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy  // [0, 146096]
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01.
    @inlinable
    public static func date(days z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097  // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365  // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)  // [0, 365]
        let mp = (5 * doy + 2) / 153  // [0, 11], March = 0
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
