import XCTest

@testable import TradingCore

final class MarketDataTests: XCTestCase {
    private func load(_ text: String, name: String = "bars.csv") throws -> BarSeries {
        try MarketData.load(bytes: Array(text.utf8), name: name)
    }

    private func expectError(_ text: String, _ check: (MarketDataError) -> Void) {
        do {
            _ = try load(text)
            XCTFail("expected an error")
        } catch let error as MarketDataError {
            check(error)
        } catch {
            XCTFail("unexpected error \(error)")
        }
    }

    // 2024-01-01T00:00:00Z = 1704067200 s.
    private let jan1 = Int64(1_704_067_200_000)
    private let day = Int64(86_400_000)

    func testHeaderWithISODates() throws {
        let s = try load("time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1.5,2.5,1,2,20\n")
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.time, [jan1, jan1 + day])
        XCTAssertEqual(s[1], Bar(time: jan1 + day, open: 1.5, high: 2.5, low: 1, close: 2, volume: 20))
    }

    func testAnyCaseAnyOrderAndEpochSeconds() throws {
        let s = try load("Close,Open,TIMESTAMP,Volume,High,Low,extra\n1.5,1,1704067200,10,2,0.5,x\n")
        XCTAssertEqual(s[0], Bar(time: jan1, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10))
    }

    func testEveryTimeColumnName() throws {
        for name in ["time", "date", "datetime", "timestamp", "open_time", "Date"] {
            let s = try load("\(name),open,high,low,close,volume\n1704067200000,1,1,1,1,0\n")
            XCTAssertEqual(s.time, [jan1], name)
        }
    }

    func testPandasUnnamedIndexWithOffsetTimes() throws {
        let csv =
            ",open,high,low,close,volume\n2024-01-01 00:00:00+00:00,1,2,0.5,1.5,10\n2024-01-01 03:00:00+02:00,1,2,0.5,1.5,10\n"
        let s = try load(csv)
        XCTAssertEqual(s.time, [jan1, jan1 + 3_600_000])
    }

    func testISOVariants() throws {
        let csv = """
            date,open,high,low,close,volume
            2024-01-01T00:00:00Z,1,1,1,1,1
            2024-01-01T00:00:01.250Z,1,1,1,1,1
            2024-01-01T01:00,1,1,1,1,1
            2024-01-01T01:30:00-0100,1,1,1,1,1
            2024-01-01T04:00:00+01,1,1,1,1,1
            """
        let s = try load(csv)
        XCTAssertEqual(s.time, [jan1, jan1 + 1250, jan1 + 3_600_000, jan1 + 9_000_000, jan1 + 10_800_000])
    }

    func testEpochMillisecondsAndSecondsAgree() throws {
        let a = try load("time,open,high,low,close,volume\n1704067200,1,1,1,1,1\n")
        let b = try load("time,open,high,low,close,volume\n1704067200000,1,1,1,1,1\n")
        XCTAssertEqual(a.time, b.time)
    }

    func testBinanceDumpWithoutHeader() throws {
        let row1 =
            "1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68,1704070799999,53957848.04,47134,682.57,28963401.71,0"
        let row2 =
            "1704070800000,42475.23,42775.00,42431.65,42613.56,1196.37,1704074399999,50970319.45,44441,640.74,27298116.26,0"
        let s = try load(row1 + "\n" + row2 + "\n")
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s[0], Bar(time: jan1, open: 42283.58, high: 42554.57, low: 42261.02, close: 42475.23, volume: 1271.68))
        XCTAssertEqual(s.time[1], jan1 + 3_600_000)
    }

    func testBinanceMicrosecondDump() throws {
        let s = try load("1704067200000000,1,2,0.5,1.5,3,1704070799999999,0,0,0,0,0\n")
        XCTAssertEqual(s.time, [jan1])
    }

    func testCRLFBOMBlankLinesAndQuotes() throws {
        let text =
            "\u{FEFF}\"time\",\"open\",\"high\",\"low\",\"close\",\"volume\"\r\n\"2024-01-01\",1,2,0.5,1.5,10\r\n\r\n2024-01-02, 1 ,2,0.5,1.5,10\r\n\r\n"
        let s = try load(text)
        XCTAssertEqual(s.time, [jan1, jan1 + day])
        XCTAssertEqual(s.open, [1, 1])
    }

    func testNumbersParseExactly() throws {
        let s = try load("time,open,high,low,close,volume\n1,0.1,1e2,0.05,3.14159265358979,123456789012345678901\n")
        XCTAssertEqual(s.open[0], 0.1)
        XCTAssertEqual(s.high[0], 100)
        XCTAssertEqual(s.close[0], 3.14159265358979)
        XCTAssertEqual(s.volume[0], 123456789012345678901.0)
    }

    func testNumbersMatchTheStandardLibraryParser() throws {
        var rng = SystemRandomNumberGenerator()
        var texts: [String] = []
        for _ in 0..<3000 {
            let x = Double.random(in: 0.000001...200_000, using: &rng)
            texts.append(x.description)
            texts.append(String(format: "%.2f", x))
            texts.append(String(format: "%.8f", x))
            texts.append(String(format: "%.17g", x))
            texts.append(String(format: "%e", x))
        }
        var csv = "time,open,high,low,close,volume\n"
        for (k, t) in texts.enumerated() { csv += "\(k + 1),1,1e300,1e-300,1,\(t)\n" }
        let s = try load(csv)
        XCTAssertEqual(s.volume, texts.map { Double($0)! })
    }

    func testMissingVolumeColumnMeansZero() throws {
        let s = try load("time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n")
        XCTAssertEqual(s.volume, [0])
    }

    func testBadNumberReportsLine() {
        expectError("time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,abc,0.5,1.5,10\n") { e in
            XCTAssertEqual(e.line, 3)
            guard case let .malformedRow(file, _, reason) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "bars.csv")
            XCTAssertEqual(reason, "field 3 (high) is not a finite number")
            XCTAssertFalse(e.description.contains("abc"), "the file's text is never repeated: \(e)")
            XCTAssertTrue(e.description.hasPrefix("bars.csv:3:"), e.description)
        }
    }

    func testBadTimeReportsLine() {
        expectError("time,open,high,low,close,volume\n2024-13-01,1,2,0.5,1.5,10\n") { e in
            guard case .malformedRow(_, 2, _) = e else { return XCTFail("\(e)") }
        }
        expectError("time,open,high,low,close,volume\n2024-02-30,1,2,0.5,1.5,10\n") { XCTAssertEqual($0.line, 2) }
        expectError("time,open,high,low,close,volume\nyesterday,1,2,0.5,1.5,10\n") { XCTAssertEqual($0.line, 2) }
    }

    func testWrongFieldCountReportsLine() {
        expectError("time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n\n2024-01-03,1,2,0.5\n") { e in
            guard case let .malformedRow(_, 4, reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("expected 6 fields, found 4"), reason)
        }
    }

    func testInconsistentPricesAreRejected() {
        expectError("time,open,high,low,close,volume\n2024-01-01,1,0.9,0.5,0.8,10\n") { XCTAssertEqual($0.line, 2) }
        expectError("time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,-1\n") { XCTAssertEqual($0.line, 2) }
    }

    func testZeroAndNegativePricesAreRefusedWithTheLine() {
        let head = "time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n"
        for (row, reason) in [
            ("2024-01-02,0,0,0,0,10", "open must be a finite price greater than 0"),
            ("2024-01-02,-5,-1,-9,-2,10", "open must be a finite price greater than 0"),
            ("2024-01-02,1,2,0,1.5,10", "low must be a finite price greater than 0"),
            ("2024-01-02,1,2,0.5,-1.5,10", "close must be a finite price greater than 0"),
            ("2024-01-02,1,2,0.5,1.5,-1", "volume must be a finite number ≥ 0"),
            ("2024-01-02,1,2,0.5,1.5,inf", "field 6 (volume) is not a finite number"),
            ("2024-01-02,1,nan,0.5,1.5,1", "field 3 (high) is not a finite number"),
            ("2024-01-02,1,0.9,1.2,1,1", "inconsistent bar: need low ≤ open, close ≤ high"),
        ] {
            expectError(head + row + "\n") { e in
                XCTAssertEqual(e, .malformedRow(file: "bars.csv", line: 3, reason: reason), row)
                XCTAssertEqual(e.description, "bars.csv:3: malformed row: " + reason)
            }
        }
    }

    func testHeaderIsNeverEchoed() {
        expectError("root:x:0:0:root:/root:/bin/bash\n") { e in
            XCTAssertEqual(e, .missingColumn(file: "bars.csv", column: "time"))
            XCTAssertFalse(e.description.contains("root"), e.description)
        }
    }

    func testUnsortedAndDuplicateTimes() {
        expectError("time,open,high,low,close,volume\n2024-01-02,1,1,1,1,1\n2024-01-01,1,1,1,1,1\n") { e in
            XCTAssertEqual(e, .unsortedTime(file: "bars.csv", line: 3, time: self.jan1, previous: self.jan1 + self.day))
        }
        expectError("time,open,high,low,close,volume\n2024-01-01,1,1,1,1,1\n2024-01-01,1,1,1,1,1\n") { e in
            XCTAssertEqual(e, .duplicateTime(file: "bars.csv", line: 3, time: self.jan1))
        }
    }

    func testMissingColumns() {
        expectError("when,open,high,low,close,volume\n2024-01-01,1,1,1,1,1\n") { e in
            guard case .missingColumn(_, "time") = e else { return XCTFail("\(e)") }
            XCTAssertEqual(e.line, 1)
        }
        expectError("time,open,high,close,volume\n2024-01-01,1,1,1,1\n") { e in
            guard case .missingColumn(_, "low") = e else { return XCTFail("\(e)") }
        }
    }

    func testEmptyInputs() {
        expectError("") { XCTAssertEqual($0, .empty(file: "bars.csv")) }
        expectError("time,open,high,low,close,volume\n\n") { XCTAssertEqual($0, .empty(file: "bars.csv")) }
    }

    func testHeaderlessFileNeedsSixColumns() {
        expectError("1704067200000,1,2,3\n") { XCTAssertEqual($0.line, 1) }
    }

    func testLoadFromPathAndUnreadable() throws {
        let path = NSTemporaryDirectory() + "bedrock-md-\(UInt32.random(in: 0...UInt32.max)).csv"
        try "time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try MarketData.load(path: path).count, 1)
        XCTAssertThrowsError(try MarketData.load(path: path + ".missing")) { e in
            XCTAssertEqual(e as? MarketDataError, .unreadable(file: path + ".missing", reason: "no such file"))
        }
        XCTAssertThrowsError(try MarketData.load(path: NSTemporaryDirectory())) { e in
            XCTAssertEqual(String(describing: e), NSTemporaryDirectory() + ": is a directory, not a file")
        }
        let link = path + ".link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        defer { try? FileManager.default.removeItem(atPath: link) }
        XCTAssertEqual(try MarketData.load(path: link).count, 1, "links are followed by default")
        XCTAssertThrowsError(try MarketData.load(path: link, name: "mine.csv", followLinks: false)) { e in
            XCTAssertEqual(e as? MarketDataError, .unreadable(file: "mine.csv", reason: "is a symbolic link (refused here)"))
        }
    }

    func testBarSeriesColumnsAndSlices() {
        let bars = (0..<5).map { Bar(time: Int64($0), open: 1, high: 2, low: 0, close: Double($0), volume: 1) }
        let s = BarSeries(bars: bars)
        XCTAssertEqual(s.bars, bars)
        XCTAssertEqual(s.slice(1..<3).close, [1, 2])
        XCTAssertEqual(s.prefix(2).count, 2)
        XCTAssertEqual(s.between(start: 2, end: 3).time, [2, 3])
    }
}
