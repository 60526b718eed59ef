import XCTest

@testable import TradingCore

final class RiskGuardTests: XCTestCase {
    private let config = RiskConfig(
        maxOpenPositions: 2, maxExposure: 0.5, minRewardRisk: 1.5,
        dailyLossLimit: 0.05, maxDrawdown: 0.2)
    private func check(
        _ state: RiskState, notional: Double = 1000, rr: Double? = 2,
        market: String = "ETHUSDT"
    ) -> [RiskReasonCode] {
        RiskGuard.check(
            EntryProposal(market: market, notional: notional, rewardRisk: rr), state: state,
            config: config
        ).reasons.map(\.code)
    }

    func testAllowedWhenEverythingIsWithinLimits() {
        let d = RiskGuard.check(
            EntryProposal(market: "ETHUSDT", notional: 1000, rewardRisk: 2),
            state: RiskState(equity: 10_000), config: config)
        XCTAssertTrue(d.allowed)
    }

    func testMaxOpenPositions() {
        let r = RiskGuard.check(
            EntryProposal(market: "ETHUSDT", notional: 10, rewardRisk: nil),
            state: RiskState(openPositions: 2, openMarkets: ["A", "B"], exposure: 100, equity: 10_000),
            config: config
        ).reasons
        XCTAssertEqual(r.map(\.code), [.maxOpenPositions])
        XCTAssertEqual(r[0].value, 2)
        XCTAssertEqual(r[0].limit, 2)
    }

    func testMarketAlreadyOpen() {
        XCTAssertEqual(
            check(RiskState(openPositions: 1, openMarkets: ["ETHUSDT"], exposure: 100, equity: 10_000)),
            [.marketAlreadyOpen])
    }

    func testMaxExposure() {
        // (3000 + 2500) / 10 000 = 55 % > 50 %; exactly 50 % is allowed.
        let r = RiskGuard.check(
            EntryProposal(market: "X", notional: 2500, rewardRisk: nil),
            state: RiskState(openPositions: 1, openMarkets: ["A"], exposure: 3000, equity: 10_000),
            config: config
        ).reasons
        XCTAssertEqual(r.map(\.code), [.maxExposure])
        XCTAssertEqual(r[0].value, 0.55, accuracy: 1e-12)
        XCTAssertEqual(check(RiskState(openPositions: 1, openMarkets: ["A"], exposure: 3000, equity: 10_000), notional: 2000), [])
    }

    func testMinRewardRiskOnlyWhenKnown() {
        XCTAssertEqual(check(RiskState(equity: 10_000), rr: 1.2), [.minRewardRisk])
        XCTAssertEqual(check(RiskState(equity: 10_000), rr: 1.5), [])
        XCTAssertEqual(check(RiskState(equity: 10_000), rr: nil), [])
    }

    func testDailyLossLimit() {
        // Day started at 10 000, now 9 500: 5 % lost → blocked; 9 600 (4 %) → allowed.
        let r = RiskGuard.check(
            EntryProposal(market: "X", notional: 100, rewardRisk: nil),
            state: RiskState(equity: 9_500, peakEquity: 10_000, dayStartEquity: 10_000), config: config
        ).reasons
        XCTAssertEqual(r.map(\.code), [.dailyLossLimit])
        XCTAssertEqual(r[0].value, 0.05, accuracy: 1e-12)
        XCTAssertEqual(check(RiskState(equity: 9_600, peakEquity: 10_000, dayStartEquity: 10_000)), [])
    }

    func testDrawdownKillSwitchAndManualKillSwitch() {
        // Peak 12 000, now 9 600: drawdown 20 % → kill switch (day start equal to now, no daily loss).
        let r = check(RiskState(equity: 9_600, peakEquity: 12_000, dayStartEquity: 9_600))
        XCTAssertEqual(r, [.maxDrawdownKillSwitch])
        XCTAssertEqual(check(RiskState(equity: 10_000, killSwitchEngaged: true)), [.killSwitch])
    }

    func testEveryBreachIsReportedTogether() {
        let codes = check(
            RiskState(
                openPositions: 2, openMarkets: ["ETHUSDT", "B"], exposure: 9000, equity: 5000,
                peakEquity: 10_000, dayStartEquity: 6000, killSwitchEngaged: true), rr: 1)
        XCTAssertEqual(
            Set(codes),
            Set([
                .killSwitch, .maxDrawdownKillSwitch, .dailyLossLimit, .maxOpenPositions,
                .marketAlreadyOpen, .maxExposure, .minRewardRisk,
            ]))
    }
}
