import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// `positions.open`'s pure parts (`ManualEntry`): parameters, stop and target sides, sizing like
/// an estimate, the risk guard for an explicit size, and the refusal's shape.
final class ManualEntryTests: XCTestCase {
    private let base: JSONObject = ["market": "btc/usdt", "side": "buy", "stop_loss_price": "95"]

    private func entry(_ extra: JSONObject = [:], without: String? = nil) throws(APIError) -> ManualEntry {
        var params = base
        for (k, v) in extra.members { params[k] = v }
        if let without { params[without] = nil }
        return try ManualEntry(LedgerParams(params: params))
    }

    private func refusal(_ extra: JSONObject = [:], without: String? = nil) -> String? {
        do {
            _ = try entry(extra, without: without)
            return nil
        } catch {
            XCTAssertEqual(error.code, .badRequest)
            return error.message
        }
    }

    func testParametersAreReadAndEachMistakeNamesItsField() throws {
        let e = try entry()
        XCTAssertEqual(e.market, "BTCUSDT")
        XCTAssertEqual(e.side, .buy)
        XCTAssertEqual(e.weight, 1, "no size and no weight: the whole weight, as a signal suggesting 1")
        XCTAssertNil(e.size)
        XCTAssertEqual(try entry(["weight": "0.25"]).weight, 0.25)
        let sized = try entry(["size": 2])
        XCTAssertEqual(sized.size, 2)
        XCTAssertNil(sized.weight)
        XCTAssertEqual(try entry(["profit_target_price": 120]).profitTargetPrice, 120)
        let cases: [(JSONObject, String?, String)] = [
            ([:], "market", "market is required"),
            (["market": "no such market!"], nil, "market must be"),
            ([:], "side", "side is required"),
            (["side": "HOLD"], nil, "side must be BUY or SELL"),
            ([:], "stop_loss_price", "stop_loss_price is required"),
            (["stop_loss_price": -1], nil, "stop_loss_price must be greater than 0"),
            (["size": 1, "weight": 0.5], nil, "size and weight"),
            (["size": -1], nil, "size must be greater than 0"),
            (["size": 0], nil, "size must be greater than 0"),
            (["size": "lots"], nil, "size must be a number"),
            (["weight": 0], nil, "weight must be greater than 0 and at most 1"),
            (["weight": 1.5], nil, "weight must be greater than 0 and at most 1"),
            (["profit_target_price": 0], nil, "profit_target_price must be greater than 0"),
        ]
        for (extra, without, message) in cases {
            let got = refusal(extra, without: without)
            XCTAssertTrue(got?.hasPrefix(message) == true, "\(extra) without \(without ?? "-"): \(got ?? "accepted")")
        }
    }

    func testStopAndTargetMustBeOnTheirSideOfThePrice() throws {
        XCTAssertNoThrow(try entry(["profit_target_price": 110]).checkLevels(price: 100))
        XCTAssertThrowsError(try entry().checkLevels(price: 90)) { error in
            XCTAssertEqual((error as? APIError)?.message, "stop_loss_price must be below the entry price 90 for a BUY")
        }
        XCTAssertThrowsError(try entry().checkLevels(price: 95), "a stop at the price is no stop")
        XCTAssertThrowsError(try entry(["profit_target_price": 99]).checkLevels(price: 100)) { error in
            XCTAssertTrue((error as? APIError)?.message.hasPrefix("profit_target_price must be above") == true)
        }
        let sell = try entry(["side": "SELL", "stop_loss_price": 105, "profit_target_price": 90])
        XCTAssertNoThrow(try sell.checkLevels(price: 100))
        XCTAssertThrowsError(try sell.checkLevels(price: 106)) { error in
            XCTAssertTrue((error as? APIError)?.message.hasPrefix("stop_loss_price must be above") == true)
        }
    }

    func testSizedLikeTheEstimateWithTheWeight() throws {
        let settings = LedgerSettings(prefix: "t:", commissionRate: 0.001)
        let account = AccountSnapshot(balance: 10_000, availableBalance: 10_000)
        let basis = EstimateBasis(account: account, risk: RiskState(equity: 10_000))
        for weight: Double in [0.25, 1] {
            let plan = try entry(["weight": .double(weight)]).plan(price: 100, basis: basis, settings: settings)
            let estimate = Estimator.estimate(
                market: "BTCUSDT", entryPrice: 100, stopLossPrice: 95, suggestedWeight: weight, account: account,
                riskState: basis.risk, sizing: settings.sizing, risk: settings.risk, commissionRate: 0.001)
            XCTAssertEqual(plan.size, estimate.estimatedPositionSize)
            XCTAssertEqual(plan.positionWeightUsed, weight)
            XCTAssertEqual(plan.reasons, [])
        }
        XCTAssertEqual(
            try entry(["weight": 0.25]).plan(price: 100, basis: basis, settings: settings).size, 25,
            "balance × weight / price")
    }

    func testAnExplicitSizeStillMeetsTheRiskGuard() throws {
        let settings = LedgerSettings(prefix: "t:")
        let open = EstimateBasis(
            account: AccountSnapshot(balance: 10_000, availableBalance: 9_000),
            risk: RiskState(
                openPositions: 1, openMarkets: ["BTCUSDT"], exposure: 1_000, equity: 10_000, killSwitchEngaged: true))
        let plan = try entry(["size": 3]).plan(price: 100, basis: open, settings: settings)
        XCTAssertEqual(plan.size, 3)
        XCTAssertNil(plan.positionWeightUsed)
        XCTAssertEqual(plan.reasons.map(\.code), [.killSwitch, .marketAlreadyOpen])
        let flat = EstimateBasis(
            account: AccountSnapshot(balance: 10_000, availableBalance: 10_000), risk: RiskState(equity: 10_000))
        XCTAssertEqual(try entry(["size": 3]).plan(price: 100, basis: flat, settings: settings).reasons, [])
        let poor = try entry(["size": 3, "profit_target_price": 101]).plan(price: 100, basis: flat, settings: settings)
        XCTAssertEqual(poor.reasons.map(\.code), [.minRewardRisk], "reward 1 for risk 5")
    }

    func testARefusalIsAConflictListingItsReasons() {
        let error = ManualEntry.refusal([
            ["code": "KILL_SWITCH", "message": "the kill switch is engaged"],
            ["code": "MARKET_ALREADY_OPEN", "message": "a position in BTCUSDT is already open"],
        ])
        XCTAssertEqual(error.code, .conflict)
        XCTAssertEqual(
            error.message,
            "entry refused by the risk guard: KILL_SWITCH: the kill switch is engaged; MARKET_ALREADY_OPEN: a position in BTCUSDT is already open"
        )
        XCTAssertEqual(
            error.details?["reasons"]?.arrayValue?.compactMap { $0["code"]?.stringValue }, ["KILL_SWITCH", "MARKET_ALREADY_OPEN"])
    }
}
