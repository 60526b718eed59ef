import XCTest

@testable import TradingCore

final class TripleExitTests: XCTestCase {
    func testTrailingStopNeverLoosens() {
        var exit = TripleExit(side: .buy, entryPrice: 100, stop: 90, target: nil, trailDistance: 10)
        exit.closeBar(high: 115, low: 100)  // armed (15 ≥ R 10): stop 105
        XCTAssertEqual(exit.stop, 105)
        XCTAssertTrue(exit.isTrailing)
        exit.closeBar(high: 108, low: 101)  // lower high: stays 105
        XCTAssertEqual(exit.stop, 105)
        exit.closeBar(high: 120, low: 110)
        XCTAssertEqual(exit.stop, 110)
        XCTAssertEqual(exit.check(open: 112, high: 113, low: 109), ExitFill(price: 110, reason: .trailingStop))
    }

    func testTrailingThatWouldBeLooserThanTheInitialStopIsIgnored() {
        var exit = TripleExit(side: .buy, entryPrice: 100, stop: 95, target: nil, trailDistance: 20)
        exit.closeBar(high: 106, low: 100)  // armed, but 106 − 20 = 86 < 95
        XCTAssertEqual(exit.stop, 95)
        XCTAssertFalse(exit.isTrailing)
        XCTAssertEqual(exit.check(open: 100, high: 101, low: 94)?.reason, .stopLoss)
    }

    func testShortTrailingMirrors() {
        var exit = TripleExit(side: .sell, entryPrice: 100, stop: 110, target: 70, trailDistance: 5)
        exit.closeBar(high: 100, low: 92)  // not armed: 8 < R 10
        XCTAssertEqual(exit.stop, 110)
        exit.closeBar(high: 95, low: 88)  // armed: stop 93
        XCTAssertEqual(exit.stop, 93)
        XCTAssertEqual(exit.check(open: 94, high: 95, low: 90), ExitFill(price: 94, reason: .trailingStop))  // gap
        XCTAssertEqual(exit.check(open: 80, high: 81, low: 69), ExitFill(price: 70, reason: .profitTarget))
    }

    func testNoLevelsNoExit() {
        let exit = TripleExit(side: .buy, entryPrice: 100, stop: nil, target: nil, trailDistance: nil)
        XCTAssertNil(exit.check(open: 1, high: 1000, low: 0.5))
    }
}
