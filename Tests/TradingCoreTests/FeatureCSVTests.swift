import XCTest

@testable import TradingCore

/// The features CSV: the documented header, missing values as empty fields, exact round trip,
/// errors naming the line.
final class FeatureCSVTests: XCTestCase {
    static func row(_ i: Int, label: UInt8) -> FeatureCSVRow {
        var x = (0..<MLFeatures.count).map { Double($0) + 0.1 * Double(i) }
        x[2] = .nan
        x[5] = Double(Float(0.1))  // 0.10000000149011612: the shortest text keeps every bit
        x[6] = 1e-7
        return FeatureCSVRow(
            time: 1_704_067_200_000 + Int64(i) * 3_600_000, market: "BTC/USDT", signalType: "pullback", label: label, features: x)
    }

    func testWriteThenParseIsExact() throws {
        let rows = [Self.row(0, label: 1), Self.row(1, label: 0)]
        let text = FeatureCSV.write(rows: rows)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(String(lines[0]), "time,market,signal_type,label," + MLFeatures.names.joined(separator: ","))
        XCTAssertTrue(
            lines[1].hasPrefix("2024-01-01T00:00:00Z,BTC/USDT,pullback,1,0.0,1.0,,3.0,4.0,0.10000000149011612,1e-07,"),
            "\(lines[1])")
        XCTAssertEqual(try FeatureCSV.parse(text), rows)
        // Windows line ends read the same.
        XCTAssertEqual(try FeatureCSV.parse(text.replacingOccurrences(of: "\n", with: "\r\n")), rows)
        let labeled = FeatureCSV.labeledRows(rows)
        XCTAssertEqual(labeled.labels, [1, 0])
        XCTAssertEqual(labeled.times, [1_704_067_200_000, 1_704_070_800_000])
        XCTAssertTrue(labeled.features[0, 2].isNaN)
    }

    func testErrorsNameTheLine() {
        func error(_ text: String) -> String {
            do {
                _ = try FeatureCSV.parse(text)
                return "accepted"
            } catch { return error.description }
        }
        let good = FeatureCSV.write(rows: [Self.row(0, label: 1)])
        XCTAssertEqual(error(""), "line 1: the file is empty; expected the header \(FeatureCSV.header)")
        XCTAssertTrue(
            error(good.replacingOccurrences(of: "rsi_14", with: "rsi")).hasPrefix(
                "line 1: header column 6 is \"rsi\", expected \"rsi_14\""))
        XCTAssertEqual(
            error(good.replacingOccurrences(of: ",pullback,1,", with: ",pullback,2,")), "line 2: label \"2\" is not 0 or 1")
        XCTAssertEqual(
            error(good.replacingOccurrences(of: "2024-01-01T00", with: "2024-13-01T00")),
            "line 2: time \"2024-13-01T00:00:00Z\" is not an RFC 3339 time")
        XCTAssertEqual(
            error(good.replacingOccurrences(of: ",1e-07,", with: ",abc,")), "line 2: range_atr \"abc\" is not a number")
        XCTAssertEqual(error(good + "2024-01-01T01:00:00Z,BTC/USDT,pullback,1\n"), "line 3: 4 fields, expected 19")
    }
}
