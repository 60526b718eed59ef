import JSONCodec
import Synchronization
import XCTest

@testable import TradingCore

/// A scorer giving every signal the same probability and recording what it saw.
final class ConstantScorer: SignalScorer {
    let value: Double
    let seen = Mutex<[[Double]]>([])

    init(_ value: Double) { self.value = value }

    func probability(_ features: [Double]) -> Double {
        seen.withLock { $0.append(features) }
        return value
    }
}

final class BacktestScorerTests: XCTestCase {
    private let rows: [(Double, Double, Double, Double)] = [
        (100, 101, 99, 100), (100, 102, 99, 101), (101, 106, 100, 105), (105, 105, 105, 105),
    ]
    private let script = [0: entry(stop: 95, target: 105, score: 80)]

    private func config(_ scorer: (any SignalScorer)?, arbiter: ArbiterConfig? = nil) -> BacktestConfig {
        var c = plainConfig()
        c.arbiter = arbiter
        c.scorer = scorer
        c.mlModel = scorer == nil ? nil : "const@1"
        return c
    }

    func testTheScoreGoesToTheArbiterWithItsDefaultsWhenNoneIsSet() throws {
        // Rule 80 × 0.5 with ML 0 × 0.3: 50 < 60, rejected; with ML 100: 87.5, taken.
        let low = try runScript(rows, script, config: config(ConstantScorer(0)))
        XCTAssertTrue(low.trades.isEmpty)
        XCTAssertEqual(low.rejectedSignals, [Backtester.arbiterRejected: 1])
        XCTAssertEqual(low.scoredSignals, 1)
        let high = try runScript(rows, script, config: config(ConstantScorer(1)))
        XCTAssertEqual(high.trades.count, 1)
        XCTAssertEqual(high.scoredSignals, 1)
        // An arbiter that gives ML no weight ignores the score; without a scorer nothing is scored.
        let ignored = try runScript(rows, script, config: config(ConstantScorer(0), arbiter: ArbiterConfig(mlWeight: 0)))
        XCTAssertEqual(ignored.trades.count, 1)
        XCTAssertEqual(try runScript(rows, script, config: config(nil)).scoredSignals, 0)
    }

    func testTheScorerSeesTheDatasetsFeatureVectors() throws {
        let series = SyntheticMarket.generate(.btcusdt, bars: 3_000, seed: 9)
        let scorer = ConstantScorer(1)
        var c = BacktestConfig(risk: nil)
        c.scorer = scorer
        let result = try Backtester.run(series: series, strategyName: "pullback", config: c)
        let dataset = try SignalDataset.build(series: series, strategy: "pullback", parameters: [:], config: c)
        let seen = scorer.seen.withLock { $0 }
        XCTAssertEqual(seen.count, result.scoredSignals)
        XCTAssertEqual(result.scoredSignals, result.signalsGenerated)
        XCTAssertGreaterThan(seen.count, 20)
        // The backtester scores every signal but the last bar's; the dataset keeps those that fill.
        let byFeatures = Set(dataset.map { $0.features.map(\.bitPattern) })
        let scoredInDataset = seen.filter { byFeatures.contains($0.map(\.bitPattern)) }
        XCTAssertEqual(scoredInDataset.count, dataset.count)
    }

    /// A scored run without an arbiter is judged by the default one (the engine gives a scorer
    /// one); its rules-only run must be judged by that same arbiter, or the comparison would
    /// credit the model with the threshold's filtering.
    func testTheRulesOnlyRunKeepsTheArbiterOfTheScoredRun() throws {
        var c = BacktestConfig(arbiter: nil)
        XCTAssertNil(c.rulesOnly.arbiter)
        c.scorer = ConstantScorer(0.5)
        XCTAssertEqual(c.rulesOnly.arbiter, .default)
        XCTAssertNil(c.rulesOnly.scorer)
        c.arbiter = ArbiterConfig(threshold: 70)
        XCTAssertEqual(c.rulesOnly.arbiter, ArbiterConfig(threshold: 70))
    }

    func testReportCarriesTheModelAndTheRulesOnlyRun() throws {
        let series = SyntheticMarket.generate(.btcusdt, bars: 2_000, seed: 4)
        var c = BacktestConfig(arbiter: .default)
        c.scorer = ConstantScorer(0.2)
        c.mlModel = "const@1"
        var fractions: [Double] = []
        c.progressInterval = 500
        let both = try Backtester.report(
            series: series, strategyName: "pullback", config: c, compareRulesOnly: true
        ) {
            fractions.append($0.fraction); return true
        }
        XCTAssertEqual(fractions, [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1])
        let plain = BacktestReport(try Backtester.run(series: series, strategyName: "pullback", config: c.rulesOnly))
        XCTAssertEqual(both.report.compare, ["rules_only": plain])
        XCTAssertLessThan(both.report.metrics.totalTrades, plain.metrics.totalTrades)
        let json = try JSONCodec.parse(Array(both.report.json().utf8))
        XCTAssertEqual(json, both.report.jsonValue())
        XCTAssertEqual(json["ml_model"], "const@1")
        XCTAssertEqual(json["scored_signals"]?.intValue.map(Int.init), both.result.scoredSignals)
        let rules = try XCTUnwrap(json["compare"]?["rules_only"])
        XCTAssertNil(rules["trades"])
        XCTAssertEqual(rules["equity_curve"]?.arrayValue?.count, 2_000)
        XCTAssertEqual(rules["ml_model"], .null)
        XCTAssertEqual(rules["total_trades"]?.intValue.map(Int.init), plain.metrics.totalTrades)
        XCTAssertNil(both.report.jsonValue(includeDetail: false)["compare"]?["rules_only"]?["equity_curve"])
        XCTAssertTrue(both.report.text().contains("ML model           const@1, "))
        XCTAssertTrue(both.report.text().contains("Rules only         ROI "))
        // Without a scorer there is nothing to compare: one run.
        let alone = try Backtester.report(series: series, strategyName: "pullback", config: c.rulesOnly, compareRulesOnly: true)
        XCTAssertTrue(alone.report.compare.isEmpty)
        XCTAssertEqual(alone.report.jsonValue()["ml_model"], .null)
    }

    func testOptimisationReportsGainTheModelAndTheComparison() {
        let value: JSONValue = ["metric": "roi"]
        XCTAssertEqual(MLComparison.annotate(value, mlModel: nil, rulesOnly: nil), ["metric": "roi", "ml_model": .null])
        XCTAssertEqual(
            MLComparison.annotate(value, mlModel: "m@2", rulesOnly: ["metric": "roi"]),
            ["metric": "roi", "ml_model": "m@2", "compare": ["rules_only": ["metric": "roi"]]])
    }
}
