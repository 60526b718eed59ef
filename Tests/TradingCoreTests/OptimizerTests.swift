import Foundation
import XCTest

@testable import TradingCore

/// Search spaces, ranking, determinism across thread counts, cancellation and walk-forward
/// windows, with a fake evaluator whose equity grows by a known rate per bar.
final class OptimizerTests: XCTestCase {
    static let hour: Int64 = 3_600_000

    /// A report whose equity starts at 100 and is multiplied by `1 + growth(bar, params)` at
    /// every bar of `range`.
    static func fakeReport(
        _ p: [String: Double], _ range: Range<Int>,
        _ growth: (Int, [String: Double]) -> Double
    ) -> BacktestReport {
        var e = 100.0
        var equity = [Double](), times = [Int64]()
        for i in range {
            e *= 1 + growth(i, p)
            equity.append(e)
            times.append(Int64(i) * hour)
        }
        return BacktestReport(
            strategyName: "fake", parameters: p, initialBalance: 100, finalBalance: e,
            trades: [], equityTimes: times, equity: equity)
    }

    struct Invalid: Error, CustomStringConvertible { var description: String }

    /// growth = 0.001 × fast − 0.0001 × slow per bar; fast ≥ slow is refused.
    static let linear: BacktestEvaluator = { p, range in
        if p["fast"]! >= p["slow"]! { throw Invalid(description: "fast must be below slow") }
        return fakeReport(p, range) { _, p in 0.001 * p["fast"]! - 0.0001 * p["slow"]! }
    }

    func testGridIsTheCartesianProductFirstRangeSlowest() throws {
        let sets = try SearchSpace.candidates(
            [ParameterRange(name: "fast", values: [5, 10]), ParameterRange(name: "slow", values: [20, 30, 40])],
            method: .grid, fixed: ["atr": 14])
        XCTAssertEqual(
            sets.map { [$0["fast"]!, $0["slow"]!] },
            [[5, 20], [5, 30], [5, 40], [10, 20], [10, 30], [10, 40]])
        XCTAssertTrue(sets.allSatisfy { $0["atr"] == 14 })
        XCTAssertThrowsError(
            try SearchSpace.candidates(
                [ParameterRange(name: "a", values: [1]), ParameterRange(name: "a", values: [2])], method: .grid))
    }

    func testParseRanges() throws {
        XCTAssertEqual(try ParameterRange.parse("fast=5,10,15").values, [5, 10, 15])
        XCTAssertEqual(try ParameterRange.parse("slow=20:30:5").values, [20, 25, 30])
        XCTAssertEqual(try ParameterRange.parse("n=1:4").values, [1, 2, 3, 4])
        let r = try ParameterRange.parse("rr=1.5:2.5:0.5")
        XCTAssertEqual(r.values, [1.5, 2, 2.5])
        XCTAssertFalse(r.isInteger)
        XCTAssertThrowsError(try ParameterRange.parse("fast"))
        XCTAssertThrowsError(try ParameterRange.parse("fast=5,x"))
        XCTAssertThrowsError(try ParameterRange.parse("fast=9:1"))
    }

    func testRandomSearchIsDeterministicForASeedAndStaysInBounds() throws {
        let ranges = [ParameterRange(name: "fast", values: [2, 50]), ParameterRange(name: "k", values: [0.5, 3.0])]
        let a = try SearchSpace.candidates(ranges, method: .random(trials: 40, seed: 7))
        let b = try SearchSpace.candidates(ranges, method: .random(trials: 40, seed: 7))
        let c = try SearchSpace.candidates(ranges, method: .random(trials: 40, seed: 8))
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(a.count, 40)
        for s in a {
            XCTAssertTrue((2...50).contains(s["fast"]!) && s["fast"]! == s["fast"]!.rounded())
            XCTAssertTrue((0.5...3.0).contains(s["k"]!))
        }
        XCTAssertEqual(Set(a.map { [$0["fast"]!, $0["k"]!] }).count, 40, "no repeated set")
        // A space of 3 whole values cannot give 10 distinct sets.
        let tiny = try SearchSpace.candidates(
            [ParameterRange(name: "n", values: [1, 3])],
            method: .random(trials: 10, seed: 1))
        XCTAssertEqual(Set(tiny.map { $0["n"]! }), [1, 2, 3])
    }

    func testSplitMix64KnownSequence() {
        // Reference values of SplitMix64 seeded with 0 (first outputs of the published algorithm).
        var g = SplitMix64(seed: 0)
        XCTAssertEqual(g.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(g.next(), 0x6E78_9E6A_A1B9_65F4)
    }

    func testRankedByMetricBestFirstWithFailuresSetAside() throws {
        let sets = try SearchSpace.candidates(
            [ParameterRange(name: "fast", values: [5, 10, 30]), ParameterRange(name: "slow", values: [20, 40])],
            method: .grid)
        let result = try Optimizer.optimize(
            candidates: sets, range: 0..<100, metric: "roi",
            options: OptimizationOptions(threads: 2), evaluate: OptimizerTests.linear)
        // growth per bar: (10,20) 0.008, (10,40) 0.006, (5,20) 0.003, (5,40) 0.001; fast 30 ≥ slow 20
        // fails, (30,40) 0.026 is best.
        XCTAssertEqual(
            result.ranked.map { [$0.parameters["fast"]!, $0.parameters["slow"]!] },
            [[30, 40], [10, 20], [10, 40], [5, 20], [5, 40]])
        XCTAssertEqual(result.failed.map { $0.parameters["fast"]! }, [30])
        XCTAssertEqual(result.failed.first?.error, "fast must be below slow")
        // roi of (10,20) over 100 bars: (1.008^100 − 1) × 100
        XCTAssertEqual(result.ranked[1].score!, (pow(1.008, 100) - 1) * 100, accuracy: 1e-6)
        XCTAssertTrue(
            result.ranked[0].report!.trades.isEmpty && result.ranked[0].report!.equity.isEmpty,
            "runs keep a summary only")
        XCTAssertThrowsError(
            try Optimizer.optimize(
                candidates: sets, range: 0..<100, metric: "sharpe",
                evaluate: OptimizerTests.linear))
    }

    func testLowerIsBetterForMaxDrawdown() throws {
        // Equity falls by `dip` on bar 1 and recovers later: max drawdown = dip × 100 %.
        let eval: BacktestEvaluator = { p, r in
            OptimizerTests.fakeReport(p, r) { i, p in i == 1 ? -p["dip"]! : (i == 2 ? 0.5 : 0) }
        }
        let sets = [0.3, 0.1, 0.2].map { ["dip": $0] }
        let result = try Optimizer.optimize(
            candidates: sets, range: 0..<5, metric: "max_drawdown",
            options: OptimizationOptions(threads: 1), evaluate: eval)
        XCTAssertTrue(result.lowerIsBetter)
        XCTAssertEqual(result.ranked.map { $0.parameters["dip"]! }, [0.1, 0.2, 0.3])
        XCTAssertEqual(result.best.score!, 10, accuracy: 1e-9)
    }

    func testSameResultOnOneAndManyThreads() throws {
        let sets = try SearchSpace.candidates(
            [
                ParameterRange(name: "fast", values: Array(stride(from: 2.0, through: 30, by: 1))),
                ParameterRange(name: "slow", values: Array(stride(from: 10.0, through: 60, by: 5))),
            ],
            method: .grid)
        // Many equal scores (growth depends on fast − slow/10 only) exercise the tie-break.
        let eval: BacktestEvaluator = { p, r in
            if p["fast"]! >= p["slow"]! { throw Invalid(description: "bad") }
            return OptimizerTests.fakeReport(p, r) { _, p in 0.0001 * (p["fast"]! - p["slow"]! / 10).rounded() }
        }
        let one = try Optimizer.optimize(
            candidates: sets, range: 0..<50, metric: "roi",
            options: OptimizationOptions(threads: 1), evaluate: eval)
        let many = try Optimizer.optimize(
            candidates: sets, range: 0..<50, metric: "roi",
            options: OptimizationOptions(threads: 4), evaluate: eval)
        XCTAssertEqual(one.ranked.map(\.parameters), many.ranked.map(\.parameters))
        XCTAssertEqual(one.ranked.map(\.score), many.ranked.map(\.score))
        XCTAssertEqual(one.failed.map(\.index), many.failed.map(\.index))
        XCTAssertEqual(one.json(), many.json())
    }

    func testProgressHookSeesEveryRunAndCanCancel() throws {
        let sets = (1...20).map { ["fast": Double($0), "slow": 100] }
        let seen = Counter()
        _ = try Optimizer.optimize(
            candidates: sets, range: 0..<10, metric: "roi",
            options: OptimizationOptions(threads: 2) { p in
                seen.add(p.completed, p.total); return true
            }, evaluate: OptimizerTests.linear)
        XCTAssertEqual(seen.values.sorted(), Array(1...20), "one call per run, counts 1...20")
        XCTAssertEqual(seen.totals, [20])
        // One thread: the hook says stop after the 3rd run, so exactly 3 ran.
        XCTAssertThrowsError(
            try Optimizer.optimize(
                candidates: sets, range: 0..<10, metric: "roi",
                options: OptimizationOptions(threads: 1) { $0.completed < 3 }, evaluate: OptimizerTests.linear)
        ) {
            XCTAssertEqual($0 as? OptimizationError, .cancelled(completed: 3))
        }
        // Two threads: no new run starts after the stop; the one in flight on the other thread
        // may still finish, so 3 or 4 ran, far from all 20.
        XCTAssertThrowsError(
            try Optimizer.optimize(
                candidates: sets, range: 0..<10, metric: "roi",
                options: OptimizationOptions(threads: 2) { $0.completed < 3 }, evaluate: OptimizerTests.linear)
        ) {
            guard case let .cancelled(n)? = $0 as? OptimizationError else { return XCTFail("\($0)") }
            XCTAssertTrue((3...4).contains(n), "\(n) runs")
        }
    }

    func testAllFailing() {
        XCTAssertThrowsError(
            try Optimizer.optimize(
                candidates: [["fast": 5, "slow": 5]], range: 0..<10,
                metric: "roi", evaluate: OptimizerTests.linear)
        ) {
            XCTAssertEqual($0 as? OptimizationError, .allFailed(firstError: "fast must be below slow"))
        }
    }
}

/// Thread-safe recorder for hook calls.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var _values = [Int]()
    private var _totals = Set<Int>()
    func add(_ v: Int, _ total: Int) { lock.lock(); _values.append(v); _totals.insert(total); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return _values }
    var totals: Set<Int> { lock.lock(); defer { lock.unlock() }; return _totals }
}
