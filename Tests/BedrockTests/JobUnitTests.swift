import Foundation
import XCTest

@testable import Bedrock

/// Pure pieces of the job module: date bounds, the fast RFC 3339 path, dataset names, curve
/// sampling, progress throttling.
final class JobUnitTests: XCTestCase {
    func testDateBounds() throws {
        XCTAssertEqual(JobParams.day("2024-01-01"), 1_704_067_200_000)
        XCTAssertEqual(JobParams.day("1969-12-31"), -86_400_000)
        XCTAssertNil(JobParams.day("2024-13-01"))
        XCTAssertNil(JobParams.day("2024-1-01"))
        let p = JobParams(params: [
            "a": "2024-01-01", "b": "2024-01-01T06:00:00Z", "c": 1_704_067_200_000,
            "d": "1704067200000", "e": "soon",
        ])
        XCTAssertEqual(try p.date("a", endOfDay: false), 1_704_067_200_000)
        XCTAssertEqual(try p.date("a", endOfDay: true), 1_704_067_200_000 + 86_400_000 - 1)
        XCTAssertEqual(try p.date("b", endOfDay: true), 1_704_067_200_000 + 6 * 3_600_000)
        XCTAssertEqual(try p.date("c", endOfDay: false), 1_704_067_200_000)
        XCTAssertEqual(try p.date("d", endOfDay: false), 1_704_067_200_000)
        XCTAssertNil(try p.date("missing", endOfDay: false))
        XCTAssertThrowsError(try p.date("e", endOfDay: false))
    }

    func testFastRFC3339MatchesTheGeneralParser() {
        for text in [
            "2024-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "2024-01-01T01:02:03.5Z", "2024-01-01T01:02:03.123Z",
            "1999-12-31T12:00:00.000001Z",
        ] {
            XCTAssertEqual(JobData.utcTime(text), KlineEvent.parseRFC3339(text), text)
        }
        XCTAssertNil(JobData.utcTime("2024-01-01T00:00:00+02:00"))
        XCTAssertNil(JobData.utcTime("2024-01-01 00:00:00Z"))
    }

    func testDatasetNamesStayInsideTheDirectory() {
        for good in ["btc.csv", "BTCUSDT-1h.csv", "a b.csv"] { XCTAssertTrue(DatasetDirectory.isSafeName(good), good) }
        for bad in [
            "", ".", "..", "../x.csv", "a/../b.csv", "/etc/passwd", "dir/x.csv", ".hidden", "x\\y.csv", "x\u{0}.csv", "a..b",
        ] {
            XCTAssertFalse(DatasetDirectory.isSafeName(bad), bad)
        }
    }

    func testDatasetLinksMustStayInsideTheDirectory() throws {
        let base = NSTemporaryDirectory() + "bedrock-datasets-\(UUID().uuidString)"
        let dir = base + "/datasets", outside = base + "/outside"
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: base) }
        try "secret-first-line\n".write(toFile: outside + "/passwd", atomically: true, encoding: .utf8)
        try "time,open,high,low,close\n".write(toFile: dir + "/real.csv", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: dir + "/leak.csv", withDestinationPath: outside + "/passwd")
        try fm.createSymbolicLink(atPath: dir + "/relative.csv", withDestinationPath: "../outside/passwd")
        try fm.createSymbolicLink(atPath: dir + "/alias.csv", withDestinationPath: "real.csv")
        let datasets = DatasetDirectory(path: dir)
        let real = try XCTUnwrap(
            realpath(dir + "/real.csv", nil).map { p in
                defer { free(p) }; return String(cString: p)
            })
        XCTAssertEqual(datasets.entry("real.csv"), .file(real))
        XCTAssertEqual(datasets.entry("alias.csv"), .file(real), "a link that stays inside is fine")
        XCTAssertEqual(datasets.entry("leak.csv"), .outside)
        XCTAssertEqual(datasets.entry("relative.csv"), .outside)
        XCTAssertEqual(datasets.names(), ["alias.csv", "real.csv"])
        for name in ["leak.csv", "relative.csv"] {
            XCTAssertThrowsError(try datasets.resolve(name)) { e in
                let error = e as? APIError
                XCTAssertEqual(error?.code, .badRequest)
                XCTAssertEqual(error?.message, "dataset \"\(name)\" is a link that leads outside the datasets directory")
            }
        }
    }

    func testDatasetFailuresNameTheDatasetAndLineOnly() throws {
        let path = NSTemporaryDirectory() + "bedrock-dataset-\(UUID().uuidString).csv"
        try "time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,-1,2,0.5,1.5\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try JobData.parseAbandonable(path: path, name: "neg.csv", cancelled: { false })) { e in
            XCTAssertEqual("\(e)", "dataset neg.csv: line 3: malformed row: open must be a finite price greater than 0")
        }
        let link = path + ".link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        defer { try? FileManager.default.removeItem(atPath: link) }
        XCTAssertThrowsError(try JobData.parseAbandonable(path: link, name: "swapped.csv", cancelled: { false })) { e in
            XCTAssertEqual("\(e)", "dataset swapped.csv: is a symbolic link (refused here)")
        }
    }

    func testEquityCurveSampling() {
        XCTAssertEqual(JobReport.sampleIndices(count: 3, max: 5), [0, 1, 2])
        let s = JobReport.sampleIndices(count: 1_000_000, max: 5000)
        XCTAssertEqual(s.count, 5000)
        XCTAssertEqual(s.first, 0)
        XCTAssertEqual(s.last, 999_999)
        XCTAssertEqual(s, s.sorted())
    }

    func testProgressEveryTenPercentAndCancel() {
        nonisolated(unsafe) var sent: [Double] = []
        let control = JobControl()
        control.emit = { sent.append($0) }
        for i in 0...100 { XCTAssertTrue(control.advance(Double(i) / 100)) }
        XCTAssertEqual(sent.count, 11)
        XCTAssertEqual(sent.last, 1)
        control.cancel(.cancelled)
        control.cancel(.interrupted)
        XCTAssertFalse(control.advance(1))
        XCTAssertEqual(control.stopReason, .cancelled)
    }
}
