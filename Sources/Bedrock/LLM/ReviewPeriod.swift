/// The period of a review memo: UTC calendar days `start` through `end`, both included, written
/// `YYYY-MM-DD`. A trade belongs to it when the date of its `exit_time` (RFC 3339 UTC, so its
/// first ten characters) falls in it.
struct ReviewPeriod: Sendable, Equatable {
    /// The first day, `YYYY-MM-DD`.
    let start: String
    /// The last day, `YYYY-MM-DD`, not before `start`.
    let end: String

    /// The longest period a review may cover, in days (a leap year).
    static let maxDays = 366

    /// The period from `start_date` to `end_date`: BAD_REQUEST naming the field when a date is
    /// missing or not a real `YYYY-MM-DD` day, when `end_date` is before `start_date`, or when
    /// the period is longer than `maxDays` days.
    init(startDate: String?, endDate: String?) throws(APIError) {
        let first = try Self.day(startDate, field: "start_date")
        let last = try Self.day(endDate, field: "end_date")
        guard last.number >= first.number else {
            throw APIError(.badRequest, "end_date (\(last.text)) is before start_date (\(first.text))")
        }
        let days = last.number - first.number + 1
        guard days <= Self.maxDays else {
            throw APIError(
                .badRequest,
                "start_date to end_date spans \(days) days; a review covers at most \(Self.maxDays)")
        }
        start = first.text
        end = last.text
    }

    /// Whether a trade that closed at `exitTime` (RFC 3339 UTC) belongs to the period.
    func contains(exitTime: String) -> Bool {
        let day = exitTime.prefix(10)
        return day >= start && day <= end
    }

    /// Whether `exitTime` is before the period's first day (every older trade is too).
    func isBefore(exitTime: String) -> Bool { exitTime.prefix(10) < start }

    /// `text` as a day: its text and its day number (days since 1970-01-01).
    private static func day(_ text: String?, field: String) throws(APIError) -> (text: String, number: Int) {
        guard let text, !text.isEmpty else { throw APIError(.badRequest, "\(field) is required (YYYY-MM-DD, UTC)") }
        let bad = APIError(.badRequest, "\(field) must be a date YYYY-MM-DD (UTC), got \"\(text.prefix(40))\"")
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { throw bad }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let dayOfMonth = number(8..<10),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(dayOfMonth)
        else { throw bad }
        return (text, daysSinceEpoch(year: year, month: month, day: dayOfMonth))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
    /// `days_from_civil`).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
