import TradingCore
import XCTest

@testable import Bedrock

/// `strategies.list` / `GET /v1/strategies`: the registry's strategies and parameter ranges.
final class StrategyCatalogTests: XCTestCase {
    func testListsEveryStrategyWithItsParameterRanges() throws {
        let answer = StrategyCatalog.list()
        let data = try XCTUnwrap(answer["data"]?.arrayValue)
        XCTAssertEqual(answer["total"]?.intValue, 3)
        XCTAssertEqual(data.compactMap { $0["name"]?.stringValue }, ["oops", "pullback", "sma_cross"])
        for entry in data { XCTAssertNotNil(entry["description"]?.stringValue) }

        let sma = try XCTUnwrap(data.first { $0["name"] == "sma_cross" })
        let params = try XCTUnwrap(sma["params"]?.arrayValue)
        XCTAssertEqual(params.count, 2)
        XCTAssertEqual(
            params[0],
            .object([
                "name": "fast", "default": .int(10), "min": .int(1), "max": .int(500),
                "integer": .bool(true), "description": "fast SMA period",
            ]))
        XCTAssertEqual(params[1]["name"], "slow")
        XCTAssertEqual(params[1]["max"], .int(1000))

        let pullback = try XCTUnwrap(data.first { $0["name"] == "pullback" }?["params"]?.arrayValue)
        let pad = try XCTUnwrap(pullback.first { $0["name"] == "atr_pad" })
        XCTAssertEqual(pad["default"], .double(0.5), "fractional values stay numbers")
        XCTAssertEqual(pad["integer"], .bool(false))
    }

    func testRangesAreTheOnesTheStrategiesEnforce() throws {
        for entry in try XCTUnwrap(StrategyCatalog.list()["data"]?.arrayValue) {
            let name = try XCTUnwrap(entry["name"]?.stringValue)
            let descriptor = try StrategyRegistry.descriptor(named: name)
            for p in try XCTUnwrap(entry["params"]?.arrayValue) {
                let key = try XCTUnwrap(p["name"]?.stringValue)
                let max = try XCTUnwrap(p["max"]?.doubleValue), min = try XCTUnwrap(p["min"]?.doubleValue)
                XCTAssertNoThrow(try descriptor.resolve([key: try XCTUnwrap(p["default"]?.doubleValue)]), "\(name).\(key)")
                XCTAssertThrowsError(try descriptor.resolve([key: max + 1]), "\(name).\(key) above max")
                XCTAssertThrowsError(try descriptor.resolve([key: min - 1]), "\(name).\(key) below min")
            }
        }
    }

    func testRouteAndRole() {
        XCTAssertEqual(RESTRoutes.match(verb: "GET", path: "/v1/strategies")?.method, .strategiesList)
        XCTAssertEqual(Method.strategiesList.leastRole, .viewer)
        XCTAssertEqual(MethodACL.check(role: .viewer, method: "strategies.list"), .allowed(.strategiesList))
    }
}
