import ReportPDF
import XCTest

final class AxisTests: XCTestCase {
    let start: Int64 = 1_483_228_800_000  // 2017-01-01T00:00:00Z
    let hour: Int64 = 3_600_000
    let day: Int64 = 86_400_000

    /// Labels 5 points a character, at least 14 points apart.
    private func width(_ label: String) -> Double { Double(label.count) * 5 }

    private func ticks(_ from: Int64, _ to: Int64, width axis: Double = 700) -> [TimeTick] {
        let t = TimeAxis.ticks(from: from, to: to, width: axis, gap: 14, measure: width)
        // No two labels touch: centred on their marks, neighbours are at least the gap apart.
        let scale = axis / Double(to - from)
        for (a, b) in zip(t, t.dropFirst()) {
            XCTAssertGreaterThanOrEqual(
                Double(b.time - a.time) * scale, (width(a.label) + width(b.label)) / 2 + 14, "\(a.label) → \(b.label)")
        }
        XCTAssertEqual(t.map(\.time), t.map(\.time).sorted())
        XCTAssertTrue(t.allSatisfy { (from...to).contains($0.time) })
        return t
    }

    func testTwoHundredThousandHourlyBarsGetAFewYearLabels() {
        // 2017-01-01 to 2039-10-25: every second year (every year would put them 31 points apart).
        let t = ticks(start, start + 200_000 * hour)
        XCTAssertEqual(t.map(\.label), stride(from: 2018, through: 2038, by: 2).map { "\($0)" })
    }

    func testANarrowAxisGetsFewerLabelsNeverFewerThanOne() {
        let wide = ticks(start, start + 90 * day, width: 700)
        let narrow = ticks(start, start + 90 * day, width: 200)
        let tiny = ticks(start, start + 90 * day, width: 40)
        XCTAssertLessThan(narrow.count, wide.count)
        XCTAssertGreaterThanOrEqual(narrow.count, 2)
        XCTAssertEqual(tiny.count, 1)
    }

    func testShortRangesShowTimesWithTheDateAndYear() {
        let t = ticks(start + 30 * 60_000, start + 2 * day)
        XCTAssertGreaterThanOrEqual(t.count, 4)
        XCTAssertTrue(t.allSatisfy { $0.time % hour == 0 }, "whole hours")
        XCTAssertTrue(t[0].label.hasPrefix("1 Jan 2017 ") && t[0].label.hasSuffix(":00"), t[0].label)
    }

    func testMonthsStartOnTheFirstAndKeepTheirDistance() {
        let t = ticks(start + 5 * day, start + 3 * 365 * day)
        XCTAssertGreaterThanOrEqual(t.count, 5)
        XCTAssertTrue(t.allSatisfy { UTCTime.minute($0.time).hasSuffix("-01 00:00") }, "\(t.map(\.label))")
        XCTAssertTrue(t.allSatisfy { $0.label.count == 8 }, "month labels such as Feb 2017: \(t.map(\.label))")
    }

    func testWeeksStartOnMonday() {
        let t = ticks(start, start + 100 * day)
        // 2017-01-02 was a Monday.
        XCTAssertEqual(t.first?.label, "2 Jan 2017")
        XCTAssertTrue(t.allSatisfy { ($0.time - (start + day)) % (7 * day) == 0 })
    }

    func testEmptyRangeHasNoMarks() {
        XCTAssertEqual(TimeAxis.ticks(from: start, to: start, width: 700, gap: 14, measure: width), [])
    }

    func testValueMarksAreRoundAndCoverTheRange() {
        let m = ValueAxis.ticks(low: 9_512.3, high: 11_874.9, count: 6)
        XCTAssertLessThanOrEqual(m.values.first!, 9_512.3)
        XCTAssertGreaterThanOrEqual(m.values.last!, 11_874.9)
        XCTAssertEqual(m.values, [9_500, 10_000, 10_500, 11_000, 11_500, 12_000])
        XCTAssertEqual(m.decimals, 0)
        let small = ValueAxis.ticks(low: -12.34, high: 0, count: 4)
        XCTAssertEqual(small.values, [-15, -10, -5, 0])
        XCTAssertEqual(ValueAxis.ticks(low: 0.01, high: 0.05, count: 5).decimals, 2)
        XCTAssertEqual(ValueAxis.label(-0.0001, decimals: 2), "0.00")
    }
}
