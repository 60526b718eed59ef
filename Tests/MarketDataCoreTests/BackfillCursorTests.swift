import MarketDataCore
import XCTest

/// Backfill paging: where it starts, page bounds that mean the same on both exchanges, and the end.
final class BackfillCursorTests: XCTestCase {
    private let minute: Int64 = 60_000
    private let t0: Int64 = 1_700_000_000_000 - 1_700_000_000_000 % 60_000

    func testAnEmptyStreamStartsBackfillBarsBackAndStopsBeforeTheFormingBar() {
        let now = t0 + 2500 * minute + 30_000  // the bar of t0 + 2500 min is forming
        var cursor = BackfillCursor(interval: .oneMinute, lastOpenTime: nil, backfillBars: 2500, nowMillis: now)
        var pages: [BackfillCursor.Page] = []
        while let page = cursor.nextPage {
            pages.append(page)
            cursor.advance(past: page, lastOpenTime: min(page.endTime, page.startTime + 999 * minute))
        }
        let thousand: Int64 = 1000 * minute
        XCTAssertEqual(pages.map(\.startTime), [t0, t0 + thousand, t0 + 2 * thousand])
        XCTAssertEqual(pages.map(\.endTime), [t0 + thousand - 1, t0 + 2 * thousand - 1, t0 + 2500 * minute - 1])
        XCTAssertEqual(pages.map(\.limit), [1000, 1000, 1000])
        let bars: Int64 = pages.map { (page: BackfillCursor.Page) -> Int64 in (page.endTime + 1 - page.startTime) / minute }
            .reduce(0, +)
        XCTAssertEqual(bars, 2500)
    }

    func testAStreamWithBarsResumesAfterItsLastOne() {
        let cursor = BackfillCursor(interval: .oneMinute, lastOpenTime: t0, backfillBars: 1000, nowMillis: t0 + 10 * minute)
        XCTAssertEqual(cursor.nextPage, .init(startTime: t0 + minute, endTime: t0 + 10 * minute - 1, limit: 1000))
        let upToDate = BackfillCursor(interval: .oneMinute, lastOpenTime: t0, backfillBars: 1000, nowMillis: t0 + minute + 5)
        XCTAssertNil(upToDate.nextPage, "only the forming bar is newer")
    }

    func testAnEmptyPageMovesPastItsRangeAndAShortPagePastItsLastBar() {
        var cursor = BackfillCursor(
            interval: .oneMinute, lastOpenTime: nil, backfillBars: 3000, nowMillis: t0 + 3000 * minute, pageLimit: 1000)
        let first = cursor.nextPage!
        cursor.advance(past: first, lastOpenTime: nil)
        XCTAssertEqual(cursor.nextStart, first.endTime + 1)
        let second = cursor.nextPage!
        cursor.advance(past: second, lastOpenTime: second.startTime + 10 * minute)
        XCTAssertEqual(cursor.nextStart, second.startTime + 11 * minute)
    }

    func testARangeCoversTheBarsOpeningFromItsStartToBeforeItsEnd() {
        var cursor = BackfillCursor(
            interval: .oneMinute, from: t0 + 30_000, to: t0 + 1500 * minute + 1, nowMillis: t0 + 9000 * minute)
        XCTAssertEqual(cursor.nextPage, .init(startTime: t0 + minute, endTime: t0 + 1001 * minute - 1, limit: 1000))
        cursor.advance(past: cursor.nextPage!, lastOpenTime: t0 + 1000 * minute)
        XCTAssertEqual(
            cursor.nextPage, .init(startTime: t0 + 1001 * minute, endTime: t0 + 1501 * minute - 1, limit: 1000),
            "the bar opening at t0 + 1500 min opens before `to`")
        cursor.advance(past: cursor.nextPage!, lastOpenTime: t0 + 1500 * minute)
        XCTAssertNil(cursor.nextPage)
        let open = BackfillCursor(interval: .oneMinute, from: t0, to: .max / 2, nowMillis: t0 + 5 * minute + 1)
        XCTAssertEqual(open.nextPage?.endTime, t0 + 5 * minute - 1, "never the forming bar")
        XCTAssertNil(
            BackfillCursor(interval: .oneMinute, from: t0 + minute, to: t0 + minute, nowMillis: t0 + 9 * minute).nextPage)
    }

    func testMonthlyPagesFollowTheCalendar() {
        let jan2024: Int64 = 1_704_067_200_000
        let mar2024: Int64 = 1_709_251_200_000
        let cursor = BackfillCursor(
            interval: .oneMonth, lastOpenTime: nil, backfillBars: 2, nowMillis: mar2024 + 86_400_000, pageLimit: 1)
        XCTAssertEqual(cursor.nextPage, .init(startTime: jan2024, endTime: 1_706_745_600_000 - 1, limit: 1))
        XCTAssertEqual(KlineInterval.oneMonth.openTime(-14, barsAfter: mar2024), 1_672_531_200_000, "2023-01-01")
    }
}
