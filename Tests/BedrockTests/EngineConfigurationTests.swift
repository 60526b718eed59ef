import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// The engine configuration's rules without Redis: updates, refusals naming the field, the
/// stored form, and where a deployed optimisation result goes.
final class EngineConfigurationTests: XCTestCase {
    let file = EngineConfiguration(
        strategies: [LiveStrategy(name: "pullback"), LiveStrategy(name: "oops")], arbiter: .default)

    func testAnUpdateReplacesWhatItNamesAndKeepsTheRest() throws {
        let next = try file.applying(["arbiter": ["threshold": 45, "ml_weight": 0]])
        XCTAssertEqual(next.arbiter, ArbiterConfig(ruleWeight: 0.5, mlWeight: 0, llmWeight: 0.2, threshold: 45))
        XCTAssertEqual(next.strategies, file.strategies)
        let swapped = try file.applying(["strategies": [["name": "sma_cross", "params": ["fast": 7], "markets": ["eth-usdt"]]]])
        XCTAssertEqual(swapped.strategies, [LiveStrategy(name: "sma_cross", parameters: ["fast": 7], markets: ["ETHUSDT"])])
        XCTAssertEqual(swapped.arbiter, file.arbiter)
    }

    func testRefusalsNameTheField() {
        let cases: [(JSONObject, String)] = [
            (["arbiter": ["threshold": 101]], "arbiter.threshold"),
            (["arbiter": ["rule_weight": 0]], "arbiter.rule_weight"),
            (["arbiter": ["llm_weight": "x"]], "arbiter.llm_weight"),
            (["arbiter": 3], "arbiter"),
            (["strategies": []], "strategies"),
            (["strategies": [["name": "pullback", "params": ["ema_period": 1]]]], "strategies"),
            (["strategies": [["name": "sma_cross", "params": ["fast": 50, "slow": 10]]]], "strategies"),
            (["status": "asleep"], "status"),
            (["mode": "fast"], "mode"),
            ([:], "strategies"),
        ]
        for (update, field) in cases {
            XCTAssertThrowsError(try file.applying(update), "\(update)") { error in
                XCTAssertEqual((error as? EngineConfigError)?.field, field, "\(update): \(error)")
            }
        }
    }

    func testTheStoredFormReadsBackWithEveryParameterShown() throws {
        var config = try file.applying(["arbiter": ["threshold": 70]])
        config.version = 3
        config.status = .paused
        config.updatedBy = "ops"
        config.updatedAt = "2026-12-07T10:00:00Z"
        config.source = ["task_id": "opt-1", "rank": 2]
        let text = JSONCodec.encodeString(config.json)
        let back = try XCTUnwrap(EngineConfiguration.stored(text))
        XCTAssertEqual(back.version, 3)
        XCTAssertEqual(back.status, .paused)
        XCTAssertEqual(back.arbiter, config.arbiter)
        XCTAssertEqual(back.source, config.source)
        // Defaults are written out, so the stored version says exactly what ran.
        let defaults = try StrategyRegistry.descriptor(named: "pullback").resolve([:]).values
        XCTAssertEqual(back.strategies[0].parameters, defaults)
        XCTAssertNil(EngineConfiguration.stored("{\"version\":1}"))
    }

    private func report(_ params: [JSONObject]) -> JSONObject {
        [
            "strategy_name": "sma_cross",
            "results": .array(params.enumerated().map { i, p in ["rank": .int(Int64(i + 1)), "parameters": .object(p)] }),
        ]
    }

    func testDeployPlacesTheSetOnTheJobsMarket() throws {
        let base = try file.applying([
            "strategies": [["name": "sma_cross", "params": ["fast": 5], "markets": ["BTCUSDT", "ETHUSDT"]], "oops"]
        ])
        let r = report([["fast": 8, "slow": 40, "arbiter.threshold": 55, "risk_per_trade": 0.02]])
        let out = try EngineDeployment.apply(report: r, market: "BTCUSDT", rank: 1, taskID: "opt-1", to: base)
        XCTAssertEqual(out.ignored, ["risk_per_trade"])
        XCTAssertEqual(out.config.arbiter.threshold, 55)
        let sma = out.config.strategies.filter { $0.name == "sma_cross" }
        XCTAssertEqual(sma.map(\.markets), [["ETHUSDT"], ["BTCUSDT"]], "the other market keeps its parameters")
        XCTAssertEqual(sma[0].parameters, ["fast": 5])
        XCTAssertEqual(sma[1].parameters, ["fast": 8, "slow": 40])
        // On every market (a dataset job) or an entry on that market alone: replaced in place.
        let everywhere = try EngineDeployment.apply(report: r, market: nil, rank: 1, taskID: "opt-1", to: out.config)
        XCTAssertEqual(
            everywhere.config.strategies.filter { $0.name == "sma_cross" }.map(\.parameters),
            [
                ["fast": 8, "slow": 40], ["fast": 8, "slow": 40],
            ])
        XCTAssertEqual(everywhere.config.source?["task_id"], "opt-1")
    }

    func testDeployRefusesABadRankOrAnInvalidSet() {
        let r = report([["fast": 8], ["fast": 9]])
        XCTAssertThrowsError(try EngineDeployment.apply(report: r, market: nil, rank: 3, taskID: "t", to: file)) {
            XCTAssertEqual(($0 as? EngineConfigError)?.field, "rank")
        }
        XCTAssertThrowsError(
            try EngineDeployment.apply(report: report([["fast": -4]]), market: nil, rank: 1, taskID: "t", to: file)
        ) { XCTAssertEqual(($0 as? EngineConfigError)?.field, "strategies") }
        XCTAssertThrowsError(try EngineDeployment.apply(report: ["results": []], market: nil, rank: 1, taskID: "t", to: file)) {
            XCTAssertEqual(($0 as? EngineConfigError)?.field, "task_id")
        }
    }
}
