import XCTest
@testable import TradingCore
final class SmokeTests: XCTestCase { func testVersion() { XCTAssertEqual(TradingCore.semanticsVersion, "2.0") } }
