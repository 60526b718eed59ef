import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// `optimize.submit` grids over the arbiter's settings and the risk per trade, and the
/// `bayesian` method: what is accepted, and bad values refused with the field named.
final class OptimizeGridParseTests: XCTestCase {
    func parse(_ params: JSONObject) throws -> JobRequest {
        var all: JSONObject = ["strategy": "sma_cross", "market": "BTCUSDT", "interval": "1h"]
        for (k, v) in params.members { all[k] = v }
        return try JobRequest.parse(
            .optimize, all, datasets: "/nonexistent", hasBars: { _, _ in true }, markets: { [] })
    }

    func message(_ params: JSONObject) -> String? {
        do {
            _ = try parse(params)
            return nil
        } catch {
            return (error as? APIError)?.message ?? "\(error)"
        }
    }

    func testSettingsAreSearchedBesideTheStrategyParameters() throws {
        let request = try parse([
            "strategy": "pullback",
            "grid": [
                "ema_period": [5, 10], "arbiter.rule_weight": [0.5, 1], "arbiter.ml_weight": [0],
                "arbiter.llm_weight": [0.2], "arbiter.threshold": "50:70:10", "risk_per_trade": [0.01, 0.02],
            ],
        ])
        let spec = try XCTUnwrap(request.optimize)
        XCTAssertEqual(spec.candidates.count, 2 * 2 * 3 * 2)
        XCTAssertEqual(
            Set(spec.candidates[0].keys),
            [
                "ema_period", "arbiter.rule_weight", "arbiter.ml_weight", "arbiter.llm_weight", "arbiter.threshold",
                "risk_per_trade",
            ])
        XCTAssertEqual(Set(spec.candidates.map { $0["arbiter.threshold"]! }), [50, 60, 70])
    }

    func testBadSettingValuesAreNamed() {
        XCTAssertEqual(
            message(["grid": ["arbiter.rule_weight": [0.5, 0]]]),
            "grid.arbiter.rule_weight value 0 is not valid; valid: a weight greater than 0 and at most 1 (the rule score is on every signal)"
        )
        XCTAssertEqual(
            message(["grid": ["arbiter.ml_weight": [-0.1]]]),
            "grid.arbiter.ml_weight value -0.1 is not valid; valid: a weight from 0 to 1")
        XCTAssertEqual(
            message(["grid": ["arbiter.llm_weight": [1.5]]]),
            "grid.arbiter.llm_weight value 1.5 is not valid; valid: a weight from 0 to 1")
        XCTAssertEqual(
            message(["grid": ["arbiter.threshold": "90:110:10"]]),
            "grid.arbiter.threshold value 110 is not valid; valid: a combined score from 0 to 100")
        XCTAssertEqual(
            message(["strategy": "pullback", "grid": ["risk_per_trade": [0.01, 1.5]]]),
            "grid.risk_per_trade value 1.5 is not valid; valid: a fraction of the balance from 0.0001 to 1 (0.01 = 1 %)")
        XCTAssertEqual(
            message(["strategy": "pullback", "grid": ["risk_per_trade": ["x"]]]),
            "grid.risk_per_trade must be a non-empty array of numbers")
        // sma_cross entries have no stop: fixed-risk sizing could size none of them.
        XCTAssertTrue(
            message(["grid": ["risk_per_trade": [0.01]]])?.hasPrefix("grid.risk_per_trade cannot change a sma_cross backtest")
                ?? false)
        XCTAssertEqual(
            message(["grid": ["arbiter.threshold": [60]], "arbiter": false]),
            "grid.arbiter.threshold needs the arbiter, which \"arbiter\": false turns off; drop one of them")
        XCTAssertNil(message(["strategy": "pullback", "grid": ["risk_per_trade": [0.01]], "arbiter": false]))
        XCTAssertTrue(
            message(["grid": ["arbiter.weight": [1]]])?.hasPrefix(
                "grid.arbiter.weight is not a parameter of sma_cross nor a searchable setting") ?? false)
    }

    func testBayesianMethod() throws {
        let request = try parse([
            "grid": ["fast": "2:20", "slow": "30:60:5", "arbiter.threshold": [40, 80]], "method": "bayesian",
            "trials": 25, "seed": 9,
        ])
        let spec = try XCTUnwrap(request.optimize)
        XCTAssertEqual(spec.method, .bayesian(trials: 25, seed: 9))
        XCTAssertEqual(spec.setsPerSearch, 25)
        XCTAssertTrue(spec.candidates.isEmpty)
        XCTAssertEqual(
            spec.warmup, try StrategyRegistry.descriptor(named: "sma_cross").make(["fast": 20, "slow": 60]).warmupBars)
        XCTAssertEqual(request.summary["method"], "bayesian")
        XCTAssertEqual(request.summary["trials"], 25)
        XCTAssertEqual(
            message(["grid": ["fast": [5]], "method": "annealing"]),
            "method must be grid, random or bayesian, got \"annealing\"")
        XCTAssertEqual(
            message(["grid": ["fast": [5, 10]], "method": "bayesian", "trials": 0]),
            "trials must be a whole number from 1 to 10000, got 0")
        // Every corner of the space invalid (fast ≥ slow everywhere): refused at submit.
        XCTAssertTrue(
            message(["grid": ["fast": "40:50", "slow": "20:30"], "method": "bayesian"])?.hasPrefix(
                "grid: no valid parameter set") ?? false)
    }
}
