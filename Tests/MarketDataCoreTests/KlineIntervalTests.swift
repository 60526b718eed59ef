import MarketDataCore
import XCTest

/// Kline intervals: lengths, the grid (months on the UTC calendar, weeks on Mondays) and each
/// exchange's spelling.
final class KlineIntervalTests: XCTestCase {
    private let day: Int64 = 86_400_000

    func testTheListAndLengthsInOrder() {
        XCTAssertEqual(
            KlineInterval.allCases.map(\.rawValue),
            ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"])
        XCTAssertEqual(KlineInterval.allCases, KlineInterval.allCases.sorted())
        XCTAssertEqual(KlineInterval.oneMinute.fixedMillis, 60_000)
        XCTAssertEqual(KlineInterval.fourHours.fixedMillis, 14_400_000)
        XCTAssertEqual(KlineInterval.oneWeek.fixedMillis, 7 * day)
        XCTAssertNil(KlineInterval.oneMonth.fixedMillis)
        XCTAssertEqual(KlineInterval(rawValue: "1M"), .oneMonth)
        XCTAssertNil(KlineInterval(rawValue: "1s"))
    }

    func testMonthsFollowTheUTCCalendar() {
        let jan2024: Int64 = 1_704_067_200_000  // 2024-01-01T00:00:00Z
        let feb2024: Int64 = 1_706_745_600_000
        let mar2024: Int64 = 1_709_251_200_000  // leap year: February has 29 days
        let jan2025: Int64 = 1_735_689_600_000
        XCTAssertEqual(KlineInterval.oneMonth.nextOpenTime(after: jan2024), feb2024)
        XCTAssertEqual(KlineInterval.oneMonth.nextOpenTime(after: feb2024), mar2024)
        XCTAssertEqual(mar2024 - feb2024, 29 * day)
        XCTAssertEqual(KlineInterval.oneMonth.nextOpenTime(after: 1_733_011_200_000), jan2025)  // December → January
        XCTAssertTrue(KlineInterval.oneMonth.isOnGrid(feb2024))
        XCTAssertFalse(KlineInterval.oneMonth.isOnGrid(feb2024 + day))
        XCTAssertFalse(KlineInterval.oneMonth.isOnGrid(feb2024 + 1))
        XCTAssertEqual(KlineInterval.oneMonth.openTime(containing: mar2024 - 1), feb2024)
        XCTAssertTrue(KlineInterval.oneMonth.isOnGrid(0))
        XCTAssertTrue(KlineInterval.oneMonth.isOnGrid(-2_678_400_000))  // 1969-12-01
    }

    func testFixedGrids() {
        XCTAssertTrue(KlineInterval.oneHour.isOnGrid(1_670_608_800_000))
        XCTAssertFalse(KlineInterval.oneHour.isOnGrid(1_670_608_800_000 + 60_000))
        XCTAssertTrue(KlineInterval.fifteenMinutes.isOnGrid(1_672_515_780_000 - 780_000))
        XCTAssertFalse(KlineInterval.fifteenMinutes.isOnGrid(1_672_515_780_000))
        // Weeks open on Mondays: 2017-07-03 (the Binance docs' weekly row) was one, the epoch a Thursday.
        XCTAssertTrue(KlineInterval.oneWeek.isOnGrid(1_499_040_000_000))
        XCTAssertFalse(KlineInterval.oneWeek.isOnGrid(0))
        XCTAssertEqual(KlineInterval.oneWeek.openTime(containing: 1_499_040_000_000 + 3 * day), 1_499_040_000_000)
        XCTAssertTrue(KlineInterval.threeDays.isOnGrid(1_502_928_000_000))
        XCTAssertFalse(KlineInterval.threeDays.isOnGrid(1_502_928_000_000 + 3_600_000))
        XCTAssertEqual(KlineInterval.oneHour.closeTime(ofBarOpeningAt: 0), 3_600_000)
    }

    func testBinanceSpellsEveryIntervalAsTheGateway() throws {
        for i in KlineInterval.allCases {
            XCTAssertEqual(try Exchange.binance.wireInterval(i), i.rawValue)
            XCTAssertEqual(Exchange.binance.interval(fromWire: i.rawValue), i)
        }
    }

    func testBybitSpellingsAndTheIntervalsItLacks() throws {
        let expected: [KlineInterval: String] = [
            .oneMinute: "1", .threeMinutes: "3", .fiveMinutes: "5", .fifteenMinutes: "15", .thirtyMinutes: "30",
            .oneHour: "60", .twoHours: "120", .fourHours: "240", .sixHours: "360", .twelveHours: "720",
            .oneDay: "D", .oneWeek: "W", .oneMonth: "M",
        ]
        for (interval, wire) in expected {
            XCTAssertEqual(try Exchange.bybit.wireInterval(interval), wire)
            XCTAssertEqual(Exchange.bybit.interval(fromWire: wire), interval)
        }
        XCTAssertNil(Exchange.bybit.interval(fromWire: "1h"))
        for missing in [KlineInterval.eightHours, .threeDays] {
            XCTAssertThrowsError(try Exchange.bybit.wireInterval(missing)) { error in
                XCTAssertEqual(error as? UnsupportedInterval, UnsupportedInterval(exchange: .bybit, interval: missing))
                XCTAssertEqual(
                    "\(error)", "bybit has no \(missing) klines; it offers 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w 1M")
            }
        }
    }
}
