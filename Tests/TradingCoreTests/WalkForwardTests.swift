import Foundation
import XCTest

@testable import TradingCore

/// Walk-forward fold boundaries and out-of-sample ranking.
final class WalkForwardTests: XCTestCase {
    func testFoldBoundaries() throws {
        // 1000 bars, 4 folds, 3 in-sample blocks → 7 blocks of 142 bars (the last gets the
        // remainder: 1000 − 6 × 142 = 148).
        let w = try Optimizer.walkForwardWindows(barCount: 1000, folds: 4)
        XCTAssertEqual(w.map(\.inSample), [0..<426, 142..<568, 284..<710, 426..<852])
        XCTAssertEqual(w.map(\.outOfSample), [426..<568, 568..<710, 710..<852, 852..<1000])
        // Out-of-sample windows follow their in-sample window directly and never overlap.
        for f in w { XCTAssertEqual(f.inSample.upperBound, f.outOfSample.lowerBound) }
        // 1 fold, 1 in-sample block: halves.
        let halves = try Optimizer.walkForwardWindows(barCount: 11, folds: 1, inSampleBlocks: 1)
        XCTAssertEqual(halves.map(\.inSample), [0..<5])
        XCTAssertEqual(halves.map(\.outOfSample), [5..<11])
        XCTAssertThrowsError(try Optimizer.walkForwardWindows(barCount: 10, folds: 4, minimumBlockBars: 2))
        XCTAssertThrowsError(try Optimizer.walkForwardWindows(barCount: 1000, folds: 0))
    }

    /// Growth per bar: 0.001 × p before bar 450 and 0.001 × (4 − p) from bar 450 on.
    /// With 1000 bars, 2 folds, 3 in-sample blocks (5 blocks of 200):
    /// - fold 1: in-sample 0..<600 = 450 bars at p, 150 at 4 − p → p = 3 fits best;
    ///   out-of-sample 600..<800 is all in the second regime.
    /// - fold 2: in-sample 200..<800 = 250 bars at p, 350 at 4 − p → p = 1 fits best;
    ///   out-of-sample 800..<1000.
    /// Out of sample p = 1 grows 0.003 a bar and p = 3 only 0.001, so p = 1 ranks first even
    /// though p = 3 had the higher in-sample score.
    static let regimes: BacktestEvaluator = { p, range in
        OptimizerTests.fakeReport(p, range) { i, p in i < 450 ? 0.001 * p["p"]! : 0.001 * (4 - p["p"]!) }
    }

    func testRankingIsByOutOfSample() throws {
        let windows = try Optimizer.walkForwardWindows(barCount: 1000, folds: 2)
        let sets = [1.0, 2, 3].map { ["p": $0] }
        let seen = RangeRecorder()
        let result = try Optimizer.walkForward(
            candidates: sets, windows: windows, metric: "roi",
            options: OptimizationOptions(threads: 2)
        ) { p, r in
            seen.add(r)
            return try WalkForwardTests.regimes(p, r)
        }
        XCTAssertEqual(result.folds.map { $0.parameters["p"]! }, [3, 1])
        XCTAssertEqual(result.folds[0].window.outOfSample, 600..<800)
        // Fold 1 in-sample: 1.003^450 × 1.001^150; out of sample: 1.001^200.
        XCTAssertEqual(result.folds[0].inSampleScore!, (pow(1.003, 450) * pow(1.001, 150) - 1) * 100, accuracy: 1e-6)
        XCTAssertEqual(result.folds[0].outOfSampleScore!, (pow(1.001, 200) - 1) * 100, accuracy: 1e-6)
        XCTAssertEqual(result.folds[1].outOfSampleScore!, (pow(1.003, 200) - 1) * 100, accuracy: 1e-6)
        XCTAssertEqual(result.ranking.map { $0.parameters["p"]! }, [1, 3])
        XCTAssertEqual(result.ranking[0].foldsWon, [1])
        XCTAssertEqual(result.ranking[0].meanOutOfSample!, (pow(1.003, 200) - 1) * 100, accuracy: 1e-6)
        // Each window was evaluated exactly as laid out: 3 sets per in-sample window, each winner
        // on both out-of-sample windows.
        XCTAssertEqual(seen.counts, [0..<600: 3, 200..<800: 3, 600..<800: 2, 800..<1000: 2])
        XCTAssertTrue(result.text().contains("Ranking by mean out-of-sample roi"))
    }

    func testWalkForwardSameOnOneAndManyThreads() throws {
        let windows = try Optimizer.walkForwardWindows(barCount: 1000, folds: 3)
        let sets = (0...8).map { ["p": Double($0) / 2] }
        let one = try Optimizer.walkForward(
            candidates: sets, windows: windows, metric: "sharpe_ratio",
            options: OptimizationOptions(threads: 1), evaluate: WalkForwardTests.regimes)
        let many = try Optimizer.walkForward(
            candidates: sets, windows: windows, metric: "sharpe_ratio",
            options: OptimizationOptions(threads: 3), evaluate: WalkForwardTests.regimes)
        XCTAssertEqual(one.json(), many.json())
    }
}

/// Thread-safe count of evaluated ranges.
final class RangeRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var _counts = [Range<Int>: Int]()
    func add(_ r: Range<Int>) { lock.lock(); _counts[r, default: 0] += 1; lock.unlock() }
    var counts: [Range<Int>: Int] { lock.lock(); defer { lock.unlock() }; return _counts }
}
