import XCTest

@testable import TradingCore

final class SizingTests: XCTestCase {
    func testWeightBasedSize() {
        // 10 000 × 0.5 / 100 = 50 units, well under the cap.
        let s = Sizing.size(
            balance: 10_000, available: 10_000, entryPrice: 100, riskUnit: 5, weight: 0.5,
            commissionRate: 0.001)
        XCTAssertEqual(s.size, 50, accuracy: 1e-12)
        XCTAssertEqual(s.positionWeightUsed, 0.5)
        XCTAssertFalse(s.capped)
    }

    func testFixedRiskSizeWithoutWeight() {
        // 10 000 × 1 % / R 4 = 25 units.
        let s = Sizing.size(
            balance: 10_000, available: 10_000, entryPrice: 100, riskUnit: 4, weight: nil,
            commissionRate: 0.001)
        XCTAssertEqual(s.size, 25, accuracy: 1e-12)
        XCTAssertNil(s.positionWeightUsed)
    }

    func testCapByAvailableBalanceIncludingCommission() {
        // Wanted 10 000 × 1.0 / 100 = 100; cap 5 000 / (100 × 1.001) = 49.95…
        let s = Sizing.size(
            balance: 10_000, available: 5_000, entryPrice: 100, riskUnit: 1, weight: 1.0,
            commissionRate: 0.001)
        XCTAssertEqual(s.size, 5_000 / 100.1, accuracy: 1e-12)
        XCTAssertTrue(s.capped)
        XCTAssertLessThanOrEqual(s.size * 100 * 1.001, 5_000 + 1e-9)
        // Fixed risk with a tiny R also hits the cap.
        let r = Sizing.size(
            balance: 10_000, available: 10_000, entryPrice: 100, riskUnit: 0.01, weight: nil,
            commissionRate: 0)
        XCTAssertEqual(r.size, 100, accuracy: 1e-12)
    }

    func testZeroRiskUnitGivesNothing() {
        XCTAssertEqual(
            Sizing.size(
                balance: 1000, available: 1000, entryPrice: 10, riskUnit: 0, weight: nil,
                commissionRate: 0
            ).size, 0)
    }
}

final class EstimatorTests: XCTestCase {
    func testEstimateAllowed() {
        // Fixed risk: 10 000 × 1 % / 5 = 20 units; cost 20 × 100 × 1.001 = 2002; risk 20 × 5 / 10 000 = 1 %.
        let e = Estimator.estimate(
            market: "BTCUSDT", entryPrice: 100, stopLossPrice: 95, profitTargetPrice: 110,
            account: AccountSnapshot(balance: 10_000, availableBalance: 10_000),
            riskState: RiskState(equity: 10_000), commissionRate: 0.001)
        XCTAssertEqual(e.estimatedPositionSize, 20, accuracy: 1e-12)
        XCTAssertEqual(e.estimatedCost, 2002, accuracy: 1e-9)
        XCTAssertEqual(e.riskPercentage, 1, accuracy: 1e-12)
        XCTAssertNil(e.positionWeightUsed)
        XCTAssertTrue(e.allowed)
        XCTAssertEqual(e.reasons, [])
    }

    func testEstimateWithWeightAndRefusal() {
        let state = RiskState(openPositions: 1, openMarkets: ["BTCUSDT"], exposure: 4000, equity: 10_000)
        let e = Estimator.estimate(
            market: "BTCUSDT", entryPrice: 100, stopLossPrice: 95, suggestedWeight: 0.8,
            account: AccountSnapshot(balance: 10_000, availableBalance: 6_000),
            riskState: state, commissionRate: 0)
        XCTAssertEqual(e.positionWeightUsed, 0.8)
        XCTAssertEqual(e.estimatedPositionSize, 60, accuracy: 1e-12)  // capped: 6 000 / 100
        XCTAssertFalse(e.allowed)
        XCTAssertEqual(e.reasons.map(\.code), [.marketAlreadyOpen])
    }
}
