import Foundation
import XCTest

import struct TradingCore.Bar
import enum TradingCore.MarketData

@testable import Bedrock

/// The CSV file of `bedrock backfill --out`: loadable by the SPEC §9 reader, resumable after its
/// last whole row, never a repeated or older row, and refusing a file of another layout.
final class CSVBackfillFileTests: XCTestCase {
    private let t0: Int64 = 1_704_067_200_000
    private var path: String!

    override func setUpWithError() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("backfill-\(UUID().uuidString).csv").path
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: path)
    }

    private func bar(_ i: Int64, close: Double = 101.25) -> Bar {
        Bar(time: t0 + i * 60_000, open: 100, high: 102.5, low: 0.00001234, close: close, volume: 123456.12345678)
    }

    func testRowsReadBackExactlyAndNeverRepeatOrGoBack() throws {
        var file = try CSVBackfillFile(path: path)
        XCTAssertNil(file.lastOpenTime())
        XCTAssertEqual(try file.write([bar(0), bar(1), bar(2)]), 3)
        XCTAssertEqual(try file.write([bar(1), bar(2), bar(3), bar(2)]), 1)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(
            text.hasPrefix("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,100,102.5,0.00001234,101.25,123456.12345678\n"))
        let series = try MarketData.load(path: path)
        XCTAssertEqual(series.time, (0..<4).map { t0 + $0 * 60_000 })
        XCTAssertEqual(series.low, Array(repeating: 0.00001234, count: 4))
        XCTAssertEqual(series.volume, Array(repeating: 123456.12345678, count: 4))

        let reopened = try CSVBackfillFile(path: path)
        XCTAssertEqual(reopened.lastOpenTime(), t0 + 3 * 60_000)
        XCTAssertEqual(reopened.repairedBytes, 0)
    }

    func testAPartialLastLineIsCutOffOnOpening() throws {
        var file = try CSVBackfillFile(path: path)
        _ = try file.write([bar(0), bar(1)])
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(Data("2024-01-01T00:02:00Z,100,10".utf8))
        handle.closeFile()
        var reopened = try CSVBackfillFile(path: path)
        XCTAssertEqual(reopened.repairedBytes, 27)
        XCTAssertEqual(reopened.lastOpenTime(), t0 + 60_000)
        XCTAssertEqual(try reopened.write([bar(2)]), 1)
        XCTAssertEqual(try MarketData.load(path: path).count, 3)
    }

    func testAFileOfAnotherLayoutIsRefused() throws {
        try Data("timestamp,open,high,low,close,volume\n1704067200,1,2,0.5,1.5,10\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try CSVBackfillFile(path: path)) {
            XCTAssertTrue("\($0)".contains("is not a backfill CSV"), "\($0)")
        }
    }

    func testDecimalsAreShortestWithoutExponent() {
        XCTAssertEqual(CSVBackfillFile.decimal(42000), "42000")
        XCTAssertEqual(CSVBackfillFile.decimal(0.1), "0.1")
        XCTAssertEqual(CSVBackfillFile.decimal(0.00001234), "0.00001234")
        XCTAssertEqual(CSVBackfillFile.decimal(1e-8), "0.00000001")
        XCTAssertEqual(Double(CSVBackfillFile.decimal(1.5e20)), 1.5e20)
    }
}
