import Foundation
import GatewayCore
import JSONCodec
import XCTest

@testable import Bedrock

/// `datasets.list`: the files a backtest may name, with what it would read from each; cached by
/// file version.
final class DatasetCatalogTests: XCTestCase {
    var base = ""
    var dir = ""

    override func setUpWithError() throws {
        base = NSTemporaryDirectory() + "bedrock-catalog-\(UUID().uuidString)"
        dir = base + "/datasets"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: base) }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: dir + "/" + name, atomically: false, encoding: .utf8)
    }

    private static let hourly =
        "time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n"
        + "2024-01-01T01:00:00Z,1.5,2,1,1.8,11\n2024-01-01T02:00:00Z,1.8,2.2,1.7,2,12\n"

    private func entries(_ catalog: DatasetCatalog) -> [String: JSONValue] {
        let answer = catalog.list()
        let data = answer["data"]?.arrayValue ?? []
        XCTAssertEqual(answer["total"]?.intValue, Int64(data.count))
        return Dictionary(uniqueKeysWithValues: data.map { ($0["name"]?.stringValue ?? "", $0) })
    }

    func testListsWhatABacktestWouldRead() throws {
        try write("BTCUSDT-1h.csv", Self.hourly)
        try write("eth_usdt.csv", "1704067200000,1,2,0.5,1.5,10,0,0,0,0,0,0\n1704068100000,1,2,0.5,1.5,10,0,0,0,0,0,0\n")
        try write("broken.csv", "time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,-1,2,0.5,1.5\n")
        try write(".hidden.csv", Self.hourly)
        try write("README.txt", "SYNTHETIC DATA\n")
        try write("notes.MD", "# notes\n")
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try Self.hourly.write(toFile: base + "/outside/secret.csv", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/leak.csv", withDestinationPath: base + "/outside/secret.csv")
        try FileManager.default.createSymbolicLink(atPath: dir + "/alias.csv", withDestinationPath: "BTCUSDT-1h.csv")

        let list = entries(DatasetCatalog(directory: DatasetDirectory(path: dir)))
        XCTAssertEqual(list.keys.sorted(), ["BTCUSDT-1h.csv", "alias.csv", "broken.csv", "eth_usdt.csv"])

        let btc = try XCTUnwrap(list["BTCUSDT-1h.csv"])
        XCTAssertEqual(btc["size"]?.intValue, Int64(Self.hourly.utf8.count))
        XCTAssertEqual(btc["rows"]?.intValue, 3)
        XCTAssertEqual(btc["start"], "2024-01-01T00:00:00Z")
        XCTAssertEqual(btc["end"], "2024-01-01T02:00:00Z")
        XCTAssertEqual(btc["market"], "BTCUSDT")
        XCTAssertEqual(btc["interval"], "1h")
        XCTAssertNil(btc["error"])
        XCTAssertNil(btc["pending"])
        XCTAssertEqual(list["alias.csv"]?["rows"]?.intValue, 3)

        // Binance dump, no header: market from two name tokens, interval from the bar spacing.
        let eth = try XCTUnwrap(list["eth_usdt.csv"])
        XCTAssertEqual(eth["rows"]?.intValue, 2)
        XCTAssertEqual(eth["market"], "ETHUSDT")
        XCTAssertEqual(eth["interval"], "15m")
        XCTAssertEqual(eth["start"], "2024-01-01T00:00:00Z")

        try FileManager.default.createSymbolicLink(atPath: dir + "/broken-alias.csv", withDestinationPath: "broken.csv")
        let again = entries(DatasetCatalog(directory: DatasetDirectory(path: dir)))
        XCTAssertEqual(
            again["broken-alias.csv"]?["error"]?.stringValue?.hasPrefix("dataset broken-alias.csv: line 3: "), true,
            "a link's error names the link")
        XCTAssertEqual(
            again["broken.csv"]?["error"]?.stringValue?.hasPrefix("dataset broken.csv: line 3: "), true,
            "the file's own entry, read from the same cached summary, names the file")
        let broken = try XCTUnwrap(list["broken.csv"])
        XCTAssertEqual(broken["error"]?.stringValue?.hasPrefix("dataset broken.csv: line 3: "), true, "\(broken)")
        XCTAssertEqual(broken["rows"]?.intValue, 0)
        XCTAssertEqual(broken["start"], .null)
        XCTAssertEqual(broken["market"], .null)
    }

    func testEachFileVersionIsReadOnce() throws {
        try write("a.csv", Self.hourly)
        try write("b.csv", Self.hourly)
        let catalog = DatasetCatalog(directory: DatasetDirectory(path: dir))
        XCTAssertEqual(entries(catalog)["a.csv"]?["rows"]?.intValue, 3)
        XCTAssertEqual(catalog.parses, 2)
        XCTAssertEqual(entries(catalog)["a.csv"]?["rows"]?.intValue, 3)
        XCTAssertEqual(catalog.parses, 2, "an unchanged file is not read again")
        try write("a.csv", Self.hourly + "2024-01-01T03:00:00Z,2,2.5,1.9,2.1,13\n")
        XCTAssertEqual(entries(catalog)["a.csv"]?["rows"]?.intValue, 4)
        XCTAssertEqual(catalog.parses, 3, "only the changed file is read again")
    }

    func testTheCacheIsBounded() throws {
        try write("a.csv", Self.hourly)
        try write("b.csv", Self.hourly)
        let catalog = DatasetCatalog(directory: DatasetDirectory(path: dir), capacity: 1)
        _ = entries(catalog)
        _ = entries(catalog)
        XCTAssertEqual(catalog.parses, 4, "one summary kept: each listing of two files reads one again at least")
    }

    func testACallReadsForItsBudgetAndLeavesTheRestPending() throws {
        for name in ["a.csv", "b.csv", "c.csv"] { try write(name, Self.hourly) }
        let catalog = DatasetCatalog(directory: DatasetDirectory(path: dir), budget: 0, clock: ManualClock())
        var list = entries(catalog)
        XCTAssertEqual(list["a.csv"]?["rows"]?.intValue, 3, "a call always reads one file")
        XCTAssertEqual(list["b.csv"]?["pending"], true)
        XCTAssertEqual(list["b.csv"]?["rows"], .null)
        XCTAssertEqual(list["b.csv"]?["size"]?.intValue, Int64(Self.hourly.utf8.count))
        list = entries(catalog)
        XCTAssertEqual(list["b.csv"]?["rows"]?.intValue, 3)
        XCTAssertEqual(list["c.csv"]?["pending"], true)
        list = entries(catalog)
        XCTAssertEqual(list.values.filter { $0["pending"] != nil }.count, 0)
        XCTAssertEqual(catalog.parses, 3)
    }

    func testNamesTellMarketAndInterval() {
        XCTAssertEqual(DatasetName("BTCUSDT-1h.csv").market, "BTCUSDT")
        XCTAssertEqual(DatasetName("BTCUSDT-1h.csv").interval, "1h")
        XCTAssertEqual(DatasetName("sample_btc_usdt_4h.csv").market, "BTCUSDT")
        XCTAssertEqual(DatasetName("sample_btc_usdt_4h.csv").interval, "4h")
        XCTAssertNil(DatasetName("prices.csv").market)
        XCTAssertNil(DatasetName("prices.csv").interval)
    }

    func testTheMethodIsForViewersOnItsRoute() {
        XCTAssertEqual(Method.datasetsList.leastRole, .viewer)
        XCTAssertEqual(RESTRoutes.match(verb: "GET", path: "/v1/datasets")?.method, .datasetsList)
    }
}
