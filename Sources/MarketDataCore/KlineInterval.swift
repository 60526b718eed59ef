/// A kline interval, the one list of the gateway (the Binance spellings, SPEC §5–§10): `1m 3m 5m
/// 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M`, in order from shortest to longest.
///
/// Fixed intervals have a length in milliseconds; `1M` is a calendar month (UTC), whose length
/// varies, so month arithmetic goes through `nextOpenTime(after:)` and `isOnGrid(_:)`.
public enum KlineInterval: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case oneMinute = "1m"
    case threeMinutes = "3m"
    case fiveMinutes = "5m"
    case fifteenMinutes = "15m"
    case thirtyMinutes = "30m"
    case oneHour = "1h"
    case twoHours = "2h"
    case fourHours = "4h"
    case sixHours = "6h"
    case eightHours = "8h"
    case twelveHours = "12h"
    case oneDay = "1d"
    case threeDays = "3d"
    case oneWeek = "1w"
    case oneMonth = "1M"

    /// Milliseconds in a day.
    public static let dayMillis: Int64 = 86_400_000

    /// The length in milliseconds; nil for `1M` (a calendar month).
    public var fixedMillis: Int64? {
        switch self {
        case .oneMinute: return 60_000
        case .threeMinutes: return 180_000
        case .fiveMinutes: return 300_000
        case .fifteenMinutes: return 900_000
        case .thirtyMinutes: return 1_800_000
        case .oneHour: return 3_600_000
        case .twoHours: return 7_200_000
        case .fourHours: return 14_400_000
        case .sixHours: return 21_600_000
        case .eightHours: return 28_800_000
        case .twelveHours: return 43_200_000
        case .oneDay: return Self.dayMillis
        case .threeDays: return 3 * Self.dayMillis
        case .oneWeek: return 7 * Self.dayMillis
        case .oneMonth: return nil
        }
    }

    /// The nominal length in milliseconds (`1M` counts 30 days): for pacing and staleness, never
    /// for the grid.
    public var nominalMillis: Int64 { fixedMillis ?? 30 * Self.dayMillis }

    /// The wire spelling (`1h`).
    public var description: String { rawValue }

    /// Shorter first.
    public static func < (a: KlineInterval, b: KlineInterval) -> Bool { a.nominalMillis < b.nominalMillis }

    /// The open time of the bar after the one opening at `openTime` (on the grid).
    public func nextOpenTime(after openTime: Int64) -> Int64 {
        guard let fixed = fixedMillis else { return CalendarMonth.start(ofMonthAfter: openTime) }
        return openTime + fixed
    }

    /// The open time `bars` bars (may be negative) after the bar opening at `openTime` (on the
    /// grid).
    public func openTime(_ bars: Int64, barsAfter openTime: Int64) -> Int64 {
        guard let fixed = fixedMillis else { return CalendarMonth.start(ofMonthContaining: openTime, plus: bars) }
        return openTime + bars * fixed
    }

    /// The close time of the bar opening at `openTime` (its next bar's open time).
    public func closeTime(ofBarOpeningAt openTime: Int64) -> Int64 { nextOpenTime(after: openTime) }

    /// True when a bar may open at `time` (ms since the epoch, UTC): minutes to days on multiples
    /// of the length from the epoch; `1w` on Mondays 00:00 UTC (the exchanges' weeks); `1M` on the
    /// first of a month 00:00 UTC; `3d` on a day start (exchanges anchor 3-day bars on their own
    /// listing calendars, so only the day is checked).
    public func isOnGrid(_ time: Int64) -> Bool {
        switch self {
        case .oneMonth: return CalendarMonth.isMonthStart(time)
        case .threeDays: return mod(time, Self.dayMillis) == 0
        // 1970-01-01 was a Thursday: Mondays are 4 days after the epoch modulo 7.
        case .oneWeek: return mod(time - 4 * Self.dayMillis, 7 * Self.dayMillis) == 0
        default: return mod(time, nominalMillis) == 0
        }
    }

    /// The open time of the bar that contains `time` on the grid (`1w` Monday-aligned, `3d`
    /// day-aligned — see `isOnGrid`).
    public func openTime(containing time: Int64) -> Int64 {
        switch self {
        case .oneMonth: return CalendarMonth.start(ofMonthContaining: time)
        case .threeDays: return time - mod(time, Self.dayMillis)
        case .oneWeek: return time - mod(time - 4 * Self.dayMillis, 7 * Self.dayMillis)
        default: return time - mod(time, nominalMillis)
        }
    }

    private func mod(_ a: Int64, _ m: Int64) -> Int64 { ((a % m) + m) % m }
}
