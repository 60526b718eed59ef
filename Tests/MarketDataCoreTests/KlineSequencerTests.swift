import MarketDataCore
import XCTest

/// Exactly once and in order: closed bars after the last pass once, the rest is dropped with a
/// reason, and a hole asks for a REST repair first.
final class KlineSequencerTests: XCTestCase {
    private let hour: Int64 = 3_600_000
    private let t0: Int64 = 1_670_601_600_000

    private func bar(_ n: Int64, closed: Bool = true, interval: KlineInterval = .oneHour) -> ExchangeKline {
        ExchangeKline(
            symbol: "BTCUSDT", interval: interval, openTime: t0 + n * hour, open: 1, high: 1, low: 1, close: 1, volume: 1,
            closed: closed)
    }

    func testClosedBarsAfterTheLastPassOnceInOrder() {
        var s = KlineSequencer(interval: .oneHour, lastOpenTime: t0)
        XCTAssertEqual(s.offer(bar(1, closed: false)), .ignoreForming)
        XCTAssertEqual(s.offer(bar(1)), .append(bar(1)))
        XCTAssertEqual(s.offer(bar(1)), .drop(.duplicate))
        XCTAssertEqual(s.offer(bar(0)), .drop(.outOfOrder))
        XCTAssertEqual(s.offer(bar(2, closed: false)), .ignoreForming)
        XCTAssertEqual(s.offer(bar(2)), .append(bar(2)))
        XCTAssertEqual(s.lastOpenTime, t0 + 2 * hour)
    }

    func testAnEmptyStreamTakesTheFirstClosedBar() {
        var s = KlineSequencer(interval: .oneHour, lastOpenTime: nil)
        XCTAssertEqual(s.offer(bar(5, closed: false)), .ignoreForming)
        XCTAssertNil(s.lastOpenTime)
        XCTAssertEqual(s.offer(bar(5)), .append(bar(5)))
        XCTAssertEqual(s.offer(bar(4)), .drop(.outOfOrder))
    }

    func testAHoleAsksForARepairOfTheMissingRange() {
        var s = KlineSequencer(interval: .oneHour, lastOpenTime: t0)
        XCTAssertEqual(s.offer(bar(4)), .repair(from: t0 + hour, to: t0 + 4 * hour))
        XCTAssertEqual(s.lastOpenTime, t0, "nothing appended before the repair")
        // The repair's REST page, then the live bar again.
        for n in 1...3 { XCTAssertEqual(s.offer(bar(Int64(n))), .append(bar(Int64(n)))) }
        XCTAssertEqual(s.offer(bar(4)), .append(bar(4)))
    }

    func testAHoleRESTCannotFillIsCrossedOnlyWhenAskedTo() {
        var s = KlineSequencer(interval: .oneHour, lastOpenTime: t0)
        XCTAssertEqual(s.offer(bar(3)), .repair(from: t0 + hour, to: t0 + 3 * hour))
        XCTAssertEqual(s.offerAcrossGap(bar(3)), .append(bar(3)))
        XCTAssertEqual(s.offerAcrossGap(bar(3)), .drop(.duplicate))
        XCTAssertEqual(s.offer(bar(4)), .append(bar(4)))
    }

    func testMonthsFollowTheCalendar() {
        let jan: Int64 = 1_704_067_200_000
        let feb: Int64 = 1_706_745_600_000
        let mar: Int64 = 1_709_251_200_000
        func month(_ t: Int64) -> ExchangeKline {
            ExchangeKline(
                symbol: "BTCUSDT", interval: .oneMonth, openTime: t, open: 1, high: 1, low: 1, close: 1, volume: 1, closed: true)
        }
        var s = KlineSequencer(interval: .oneMonth, lastOpenTime: jan)
        XCTAssertEqual(s.offer(month(feb)), .append(month(feb)))
        var t = KlineSequencer(interval: .oneMonth, lastOpenTime: jan)
        XCTAssertEqual(t.offer(month(mar)), .repair(from: feb, to: mar))
    }
}
