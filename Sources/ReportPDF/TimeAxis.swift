import TradingCore

/// A labelled mark on a time axis.
public struct TimeTick: Sendable, Equatable {
    /// Milliseconds since the Unix epoch (UTC).
    public var time: Int64
    /// What is printed under the mark: `10 Mar 2024 14:00`, `10 Mar 2024`, `Mar 2024` or `2024`,
    /// by the step (the year is always shown, so no label is ambiguous).
    public var label: String
}

/// Where a chart's time axis gets its labels. Pure: the chart says how wide the axis is and
/// how wide a label is in its font (`measure`), and gets the marks of the finest calendar step
/// whose labels do not touch — a few year marks for 200,000 hourly bars, hours for a day.
public enum TimeAxis {
    /// The calendar unit of a step.
    enum Unit { case minute, day, week, month, year }

    /// Steps from fine to coarse: calendar-aligned minutes, hours, days, Monday weeks, months, years.
    static let steps: [(unit: Unit, count: Int64)] =
        [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720].map { (Unit.minute, $0) }
        + [(.day, 1), (.day, 2), (.week, 1), (.week, 2)]
        + [1, 2, 3, 6].map { (Unit.month, $0) }
        + [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].map { (Unit.year, $0) }

    /// The shortest time, in ms, between two marks of a step (months count 28 days, years 365).
    static func shortest(_ step: (unit: Unit, count: Int64)) -> Int64 {
        let day: Int64 = 86_400_000
        switch step.unit {
        case .minute: return step.count * 60_000
        case .day: return step.count * day
        case .week: return step.count * 7 * day
        case .month: return step.count == 1 ? 28 * day : step.count * 30 * day - 2 * day
        case .year: return step.count * 365 * day
        }
    }

    /// The marks within `from...to` of the finest step whose labels, centred on their marks on an
    /// axis `width` points wide, leave at least `gap` points between neighbours (`measure` gives a
    /// label's width in points). Marks sit on round calendar times (whole hours, midnights,
    /// Mondays, month and year starts). Empty when the range is empty or no mark falls inside it.
    public static func ticks(
        from: Int64, to: Int64, width: Double, gap: Double, measure: (String) -> Double
    ) -> [TimeTick] {
        guard to > from, width > 0 else { return [] }
        let pointsPerMs = width / Double(to - from)
        var coarsest: [TimeTick] = []
        for step in steps {
            // Steps whose marks are closer than the gap alone can never fit: skip without listing them.
            if Double(shortest(step)) * pointsPerMs < gap { continue }
            let ticks = marks(from: from, to: to, step: step).map { TimeTick(time: $0, label: label($0, step.unit)) }
            let widths = ticks.map { measure($0.label) }
            let fits = ticks.indices.dropFirst().allSatisfy { i in
                Double(ticks[i].time - ticks[i - 1].time) * pointsPerMs >= (widths[i] + widths[i - 1]) / 2 + gap
            }
            if fits { return ticks }
            coarsest = ticks
        }
        return coarsest.isEmpty ? [] : [coarsest[0]]
    }

    private static func marks(from: Int64, to: Int64, step: (unit: Unit, count: Int64)) -> [Int64] {
        let day: Int64 = 86_400_000
        var out: [Int64] = []
        switch step.unit {
        case .minute, .day, .week:
            // Weeks start on Monday: 1970-01-05 (epoch day 4) was one.
            let offset: Int64 = step.unit == .week ? 4 * day : 0
            let size = shortest(step)
            var t = UTCTime.floorDiv(from - offset + size - 1, size) * size + offset
            while t <= to {
                out.append(t)
                t += size
            }
        case .month, .year:
            let months = step.unit == .year ? step.count * 12 : step.count
            let start = UTCTime.parts(from)
            var index = start.year * 12 + start.month - 1
            if monthStart(index) < from { index += 1 }
            index = UTCTime.floorDiv(index + months - 1, months) * months
            while monthStart(index) <= to {
                out.append(monthStart(index))
                index += months
            }
        }
        return out
    }

    /// The first instant of month `index` (year × 12 + month − 1).
    private static func monthStart(_ index: Int64) -> Int64 {
        let year = UTCTime.floorDiv(index, 12)
        return CivilDate.days(year: year, month: index - year * 12 + 1, day: 1) * 86_400_000
    }

    private static func label(_ t: Int64, _ unit: Unit) -> String {
        let p = UTCTime.parts(t)
        let month = UTCTime.monthNames[Int(p.month - 1)]
        switch unit {
        case .minute: return "\(p.day) \(month) \(p.year) \(UTCTime.two(p.hour)):\(UTCTime.two(p.minute))"
        case .day, .week: return "\(p.day) \(month) \(p.year)"
        case .month: return "\(month) \(p.year)"
        case .year: return "\(p.year)"
        }
    }
}
