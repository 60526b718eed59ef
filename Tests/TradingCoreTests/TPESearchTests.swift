import Synchronization
import XCTest

@testable import TradingCore

/// Bayesian search (TPE): reproducible for a seed, on the grid, better than random search on a
/// smooth objective, and the same ranking whatever the thread count.
final class TPESearchTests: XCTestCase {
    /// A whole-number range, a continuous one and a stepped one.
    static let ranges = [
        ParameterRange(name: "n", values: [0, 100]),
        ParameterRange(name: "x", values: [-5, 5.5]),
        try! ParameterRange.parse("k=0:2:0.1"),
    ]

    /// A quadratic bowl with its minimum (0) off the centre and off any range's midpoint.
    static func bowl(_ p: [String: Double]) -> Double {
        let n = (p["n"]! - 63) / 100, x = (p["x"]! - 1.3) / 10.5, k = (p["k"]! - 0.7) / 2
        return n * n + x * x + k * k
    }

    /// Every set TPE proposes for `seed`, scored by `objective` (lower is better).
    static func tpeTrials(seed: UInt64, trials: Int, _ objective: ([String: Double]) -> Double) throws -> [[String: Double]] {
        var search = try TPESearch(ranges: ranges, trials: trials, seed: seed, lowerIsBetter: true)
        var all: [[String: Double]] = []
        while let batch = search.nextBatch() {
            search.record(batch.map(objective))
            all += batch
        }
        return all
    }

    func testTheSameSeedGivesTheSameTrials() throws {
        let a = try Self.tpeTrials(seed: 7, trials: 40, Self.bowl)
        let b = try Self.tpeTrials(seed: 7, trials: 40, Self.bowl)
        let c = try Self.tpeTrials(seed: 8, trials: 40, Self.bowl)
        XCTAssertEqual(a.count, 40)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(Set(a.map { [$0["n"]!, $0["x"]!, $0["k"]!] }).count, 40, "no set tried twice")
    }

    func testEveryTrialStaysOnItsGrid() throws {
        let steps = Set(Self.ranges[2].values)
        for seed in UInt64(0)..<5 {
            for p in try Self.tpeTrials(seed: seed, trials: 60, Self.bowl) {
                XCTAssertTrue((0...100).contains(p["n"]!) && p["n"]! == p["n"]!.rounded(), "n \(p["n"]!)")
                XCTAssertTrue((-5...5.5).contains(p["x"]!), "x \(p["x"]!)")
                XCTAssertTrue(steps.contains(p["k"]!), "k \(p["k"]!) is not one of the grid's values")
            }
        }
        // Evenly spaced whole numbers keep their step; a space smaller than the budget ends early.
        var search = try TPESearch(
            ranges: [ParameterRange(name: "slow", values: [10, 20, 30, 40])], trials: 10, seed: 1)
        var tried: [Double] = []
        while let batch = search.nextBatch() {
            tried += batch.map { $0["slow"]! }
            search.record(batch.map { $0["slow"]! })
        }
        XCTAssertEqual(tried.sorted(), [10, 20, 30, 40])
    }

    func testMedianBestOverTwentySeedsIsNoWorseThanRandomSearch() throws {
        let trials = 40
        var tpeBest: [Double] = [], randomBest: [Double] = []
        for seed in UInt64(1)...20 {
            tpeBest.append(try Self.tpeTrials(seed: seed, trials: trials, Self.bowl).map(Self.bowl).min()!)
            let random = try SearchSpace.candidates(Self.ranges, method: .random(trials: trials, seed: seed))
            XCTAssertEqual(random.count, trials)
            randomBest.append(random.map(Self.bowl).min()!)
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2 - 1] / 2 + xs.sorted()[xs.count / 2] / 2 }
        XCTAssertLessThanOrEqual(
            median(tpeBest), median(randomBest),
            "TPE median best \(median(tpeBest)) vs random \(median(randomBest))")
    }

    func testBayesianRankingDoesNotDependOnThreadsAndCarriesFixedValues() throws {
        let evaluate: BacktestEvaluator = { p, range in
            OptimizerTests.fakeReport(p, range) { _, p in 0.0005 - 0.00001 * abs(p["n"]! - 40) + 0.00001 * p["k"]! }
        }
        let one = try Optimizer.bayesian(
            ranges: Self.ranges, trials: 30, seed: 3, fixed: ["atr": 14], range: 0..<200, metric: "roi",
            options: OptimizationOptions(threads: 1), evaluate: evaluate)
        let four = try Optimizer.bayesian(
            ranges: Self.ranges, trials: 30, seed: 3, fixed: ["atr": 14], range: 0..<200, metric: "roi",
            options: OptimizationOptions(threads: 4), evaluate: evaluate)
        XCTAssertEqual(one.ranked.count, 30)
        XCTAssertEqual(one.ranked.map(\.parameters), four.ranked.map(\.parameters))
        XCTAssertEqual(one.ranked.map(\.score), four.ranked.map(\.score))
        XCTAssertTrue(one.ranked.allSatisfy { $0.parameters["atr"] == 14 })
    }

    func testBayesianWalkForwardSearchesEveryFold() throws {
        let windows = try Optimizer.walkForwardWindows(barCount: 700, folds: 3)
        let last = Mutex(OptimizationProgress(completed: 0, total: 0))
        let result = try Optimizer.walkForward(
            ranges: Self.ranges, trials: 12, seed: 5, windows: windows, metric: "roi",
            options: OptimizationOptions(threads: 1) { p in
                last.withLock { $0 = p }
                return true
            }
        ) { p, range in OptimizerTests.fakeReport(p, range) { _, p in 0.0001 * p["k"]! } }
        XCTAssertEqual(result.folds.count, 3)
        XCTAssertEqual(result.candidatesPerFold, 12)
        XCTAssertEqual(last.withLock { $0 }, OptimizationProgress(completed: 3 * 12 + 3 * 3, total: 3 * 12 + 3 * 3))
        XCTAssertEqual(result.ranking.first?.parameters["k"], 2)
    }

    func testSearchedSettingsGoIntoTheConfiguration() {
        let base = BacktestConfig(arbiter: nil)
        let (config, strategy) = base.applying([
            "fast": 10, "arbiter.rule_weight": 0.7, "arbiter.threshold": 55, "risk_per_trade": 0.02,
        ])
        XCTAssertEqual(strategy, ["fast": 10])
        XCTAssertEqual(config.arbiter, ArbiterConfig(ruleWeight: 0.7, mlWeight: 0.3, llmWeight: 0.2, threshold: 55))
        XCTAssertEqual(config.sizing, SizingConfig(riskPerTrade: 0.02, useSuggestedWeight: false))
        XCTAssertEqual(base.applying(["fast": 10]).config, base)
        XCTAssertFalse(SearchableSetting.ruleWeight.isValid(0))
        XCTAssertTrue(SearchableSetting.mlWeight.isValid(0))
        XCTAssertFalse(SearchableSetting.threshold.isValid(101))
        XCTAssertFalse(SearchableSetting.riskPerTrade.isValid(0))
    }
}
