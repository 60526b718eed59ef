import Foundation
import JSONCodec
import XCTest

import protocol TradingCore.SignalScorer
import enum TradingCore.SyntheticMarket

@testable import Bedrock

/// A scorer with one probability for every signal.
private struct FixedScorer: SignalScorer {
    var value: Double
    func probability(_ features: [Double]) -> Double { value }
}

private struct NoSuchModel: Error, CustomStringConvertible {
    var description: String { "no such model" }
}

/// Backtest and optimisation jobs naming an ML model (`ml_model`, `compare`), against a real
/// redis-server, with the model loader the gateway gives the job service.
final class JobModelTests: JobServiceTestCase {
    /// The `completed` frame of a job submitted with `params`.
    private func run(_ method: Method, _ params: JSONObject) throws -> JSONValue {
        let rec = PushRecorder()
        guard case .success = call(method, params, push: rec.push) else { throw NoSuchModel() }
        return try XCTUnwrap(rec.wait("completed")).frame
    }

    private func message(_ method: Method, _ params: JSONObject) -> String? {
        if case .failure(let e) = call(method, params), e.code == .badRequest { return e.message }
        return nil
    }

    func testBadModelFieldsAreRefusedNamingTheField() {
        start(loader: { _ in FixedScorer(value: 0.5) })
        let base: JSONObject = ["strategy": "sma_cross", "dataset": "small.csv"]
        func with(_ extra: JSONObject) -> JSONObject {
            var p = base
            for (k, v) in extra.members { p[k] = v }
            return p
        }
        let cases: [(JSONObject, String)] = [
            (["ml_model": "pullback"], "ml_model must be \"name@version\""),
            (["ml_model": "pullback@"], "ml_model must be"),
            (["ml_model": "pb@1", "arbiter": false], "ml_model needs the arbiter"),
            (["ml_model": "pullback@0"], "ml_model must be"),
            (["ml_model": "pull back@1"], "ml_model must be"),
            (["ml_model": "a@1@2"], "ml_model must be"),
            (["ml_model": 3], "ml_model must be a string"),
            (["ml_model": "m@1", "compare": "rules_only"], "compare must be an array"),
            (["ml_model": "m@1", "compare": ["rules_only", "llm_only"]], "valid: [\"rules_only\"]"),
            (["compare": ["rules_only"]], "needs ml_model"),
        ]
        for (extra, needle) in cases {
            for method in [Method.backtestSubmit, .optimizeSubmit] {
                var params = with(extra)
                if method == .optimizeSubmit { params["grid"] = ["fast": [5, 10]] }
                let text = message(method, params)
                XCTAssertTrue(text?.contains(needle) ?? false, "\(method) \(extra): \(text ?? "accepted")")
            }
        }
        XCTAssertEqual(JobRequest.modelReference("pullback-btc.v2@007"), "pullback-btc.v2@7")
        XCTAssertNil(JobRequest.modelReference("m@+1"))
    }

    func testAJobTakesEveryNameTheRegistryTakes() {
        start(loader: { _ in FixedScorer(value: 0.5) })
        XCTAssertTrue(ModelRegistry.isValidName("_pb"))
        XCTAssertEqual(JobRequest.modelReference("_pb@1"), "_pb@1")
        XCTAssertEqual(JobRequest.modelReference(".pb@2"), ".pb@2")
        XCTAssertEqual(JobRequest.modelReference("-pb@3"), "-pb@3")
        let params: JSONObject = ["strategy": "sma_cross", "dataset": "small.csv", "ml_model": "_pb@1"]
        if case .failure(let e) = call(.backtestSubmit, params) { XCTFail("_pb@1 refused: \(e.message)") }
    }

    func testWithoutARegistryAJobNamingAModelIsRefused() {
        start(loader: nil)
        let text = message(.backtestSubmit, ["strategy": "sma_cross", "dataset": "small.csv", "ml_model": "m@1"])
        XCTAssertEqual(text, JobService.noModels)
    }

    func testABacktestWithAModelBesideTheRulesOnlyRun() throws {
        start(loader: { name in
            guard name == "strict@1" else { throw NoSuchModel() }
            return FixedScorer(value: 0)
        })
        let params: JSONObject = ["strategy": "pullback", "dataset": "small.csv"]
        var withModel = params
        withModel["ml_model"] = "strict@1"
        withModel["compare"] = ["rules_only"]
        let done = try run(.backtestSubmit, withModel)
        XCTAssertEqual(done["status"], "COMPLETED")
        let report = try XCTUnwrap(done["report"])
        XCTAssertEqual(report["ml_model"], "strict@1")
        // Probability 0 under the arbiter rejects every signal of rule score < 96.
        XCTAssertGreaterThan(report["scored_signals"]?.intValue ?? 0, 5)
        XCTAssertEqual(report["rejected_signals"]?["ARBITER_REJECTED"], report["scored_signals"])
        XCTAssertEqual(report["total_trades"]?.intValue, 0)
        let rules = try XCTUnwrap(report["compare"]?["rules_only"])
        XCTAssertNil(rules["trades"])
        XCTAssertEqual(rules["ml_model"], .null)
        XCTAssertEqual(rules["scored_signals"]?.intValue, 0)
        XCTAssertEqual(rules["equity_curve"]?.arrayValue?.count, 3000)
        // The rules-only side is the job without the model.
        let plain = try XCTUnwrap(try run(.backtestSubmit, params)["report"])
        XCTAssertEqual(plain["ml_model"], .null)
        XCTAssertNil(plain["compare"])
        XCTAssertGreaterThan(plain["total_trades"]?.intValue ?? 0, 5)
        XCTAssertEqual(rules["total_trades"], plain["total_trades"])
        XCTAssertEqual(rules["final_balance"], plain["final_balance"])
        // A model the loader cannot give fails the job, saying so.
        var missing = params
        missing["ml_model"] = "gone@4"
        let failed = try run(.backtestSubmit, missing)
        XCTAssertEqual(failed["status"], "FAILED")
        XCTAssertEqual(failed["reason"], "ml_model gone@4 cannot be used: no such model")
    }

    func testAnOptimisationWithAModelBesideTheRulesOnlySearch() throws {
        start(loader: { _ in FixedScorer(value: 1) })
        let done = try run(
            .optimizeSubmit,
            [
                "strategy": "sma_cross", "dataset": "small.csv", "grid": ["fast": [5, 10]], "ml_model": "keen@2",
                "compare": ["rules_only"], "metric": "roi",
            ])
        XCTAssertEqual(done["status"], "COMPLETED")
        let report = try XCTUnwrap(done["report"])
        XCTAssertEqual(report["ml_model"], "keen@2")
        XCTAssertEqual(report["results"]?.arrayValue?.count, 2)
        let rules = try XCTUnwrap(report["compare"]?["rules_only"])
        XCTAssertEqual(rules["results"]?.arrayValue?.count, 2)
        XCTAssertEqual(rules["kind"], "optimize")
        XCTAssertTrue(service.registry.render().contains("bedrock_backtests_run_total 4\n"))
    }
}
