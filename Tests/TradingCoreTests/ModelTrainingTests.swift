import JSONCodec
import XCTest

@testable import TradingCore

/// The trainer and walk-forward evaluation: learns separable data, finds nothing in noise (no
/// look-ahead), trains on the past only, is deterministic and thread-count independent, cancels.
final class ModelTrainingTests: XCTestCase {
    /// `n` hourly rows; feature 0 uniform in [0, 1), the others noise with 5 % missing in 1…5;
    /// `label` decides each row's label from its features and a random number.
    static func rows(_ n: Int, seed: UInt64 = 7, label: ([Double], Double) -> Bool) -> LabeledRows {
        var random = SplitMix64(seed: seed)
        var matrix = FeatureMatrix(columns: MLFeatures.count)
        var labels: [UInt8] = []
        for _ in 0..<n {
            var x = (0..<MLFeatures.count).map { _ in random.nextUnit() * 2 - 1 }
            x[0] = random.nextUnit()
            for c in 1...5 where random.nextUnit() < 0.05 { x[c] = .nan }
            matrix.append(x)
            labels.append(label(x, random.nextUnit()) ? 1 : 0)
        }
        return LabeledRows(features: matrix, labels: labels, times: (0..<n).map { Int64($0) * 3_600_000 })
    }

    static var small: GBTHyperparameters {
        var p = GBTHyperparameters()
        p.trees = 40
        p.depth = 4
        p.learningRate = 0.3
        p.earlyStoppingRounds = 10
        return p
    }

    func testSeparableDataIsLearned() throws {
        let rows = Self.rows(1500) { x, _ in x[0] > 0.3 }
        let trained = try ModelTraining.run(rows, folds: 3, hyperparameters: Self.small, threads: 2) { _ in true }
        XCTAssertGreaterThan(trained.walkForward.model.auc!, 0.98)
        XCTAssertGreaterThan(trained.walkForward.model.accuracy, 0.97)
        XCTAssertGreaterThan(trained.walkForward.model.accuracy, trained.walkForward.baseline.accuracy + 0.2)
        // Fresh rows from the same rule.
        let fresh = Self.rows(500, seed: 99) { x, _ in x[0] > 0.3 }
        let p = (0..<fresh.count).map { trained.ensemble.probability(fresh.features.row($0)) }
        XCTAssertGreaterThan(BinaryMetrics.evaluate(labels: fresh.labels, probabilities: p).auc!, 0.99)
        XCTAssertEqual(trained.ensemble.featureNames, MLFeatures.names)
    }

    func testNoiseGivesChanceAndNoEdgeOverTheBaseline() throws {
        let rows = Self.rows(3000) { _, u in u < 0.4 }
        let trained = try ModelTraining.run(rows, folds: 4, hyperparameters: Self.small, threads: 2) { _ in true }
        let report = trained.walkForward
        XCTAssertEqual(report.model.count, report.baseline.count)
        XCTAssertEqual(report.model.auc!, 0.5, accuracy: 0.05)
        // The majority (0) baseline is right ~60 % of the time; the model is no better beyond noise.
        XCTAssertEqual(report.baseline.accuracy, 0.6, accuracy: 0.03)
        XCTAssertLessThan(report.model.accuracy, report.baseline.accuracy + 0.02)
        XCTAssertGreaterThan(report.model.logLoss, report.baseline.logLoss - 0.01)
    }

    /// Noise whose positive rate drifts from 10 % to 50 % over time: every fold's baseline is a
    /// different constant, and its AUC is still exactly 0.5 (pooled, the constants would rank the
    /// later, richer folds above the earlier ones and give it a spurious AUC); the model's AUC is
    /// chance too.
    func testTheBaselineHasNoRankingSkillWhenThePositiveRateDrifts() throws {
        let n = 3000
        var index = 0
        let rows = Self.rows(n) { _, u in
            index += 1
            return u < 0.1 + 0.4 * Double(index) / Double(n)
        }
        let trained = try ModelTraining.run(rows, folds: 4, hyperparameters: Self.small, threads: 1) { _ in true }
        let report = trained.walkForward
        XCTAssertEqual(report.baseline.auc, 0.5)
        XCTAssertEqual(report.model.auc!, 0.5, accuracy: 0.05)
        let rates = report.folds.map { Double(rows.labels[0..<$0.trainRows].reduce(0) { $0 + Int($1) }) / Double($0.trainRows) }
        XCTAssertLessThan(rates.first!, rates.last! - 0.05, "the folds' baselines differ")
        let weighted = report.folds.reduce(0.0) { $0 + $1.model.auc! * Double($1.testRange.count) } / Double(report.model.count)
        XCTAssertEqual(report.model.auc!, weighted, accuracy: 1e-12)
    }

    /// A row whose trade closed after a fold's first test row has seen test-period prices: that
    /// fold trains without it (purged), later folds with it; the early-stopping tail purges the
    /// same way.
    func testRowsWhoseLabelsEndInsideTheTestPeriodArePurged() throws {
        var rows = Self.rows(500) { x, _ in x[0] > 0.5 }
        let borders = try ModelTraining.chunkBorders(times: rows.times, folds: 4)
        // The two rows before the first border close 30 hours later, inside chunk 1.
        for r in (borders[1] - 2)..<borders[1] { rows.labelEnds[r] = rows.times[r] + 30 * 3_600_000 }
        var p = Self.small
        p.earlyStoppingRounds = 0
        let folds = try ModelTraining.run(rows, folds: 4, hyperparameters: p, threads: 1) { _ in true }.walkForward.folds
        XCTAssertEqual(folds[0].trainRows, borders[1] - 2)
        XCTAssertEqual(folds[0].purgedRows, 2)
        XCTAssertEqual(folds[1].trainRows, borders[2])
        XCTAssertEqual(folds[1].purgedRows, 0)
        let json = try XCTUnwrap(
            ModelTraining.run(rows, folds: 4, hyperparameters: p, threads: 1) { _ in true }
                .walkForward.jsonValue["fold_ranges"]?.arrayValue?.first)
        XCTAssertEqual(json["purged_rows"], .int(2))
        let prefix = rows.prefix(borders[1], purgedAt: rows.times[borders[1]])
        XCTAssertEqual(prefix.times, Array(rows.times[0..<(borders[1] - 2)]))
        // Early stopping: the last 100 rows validate; a training row ending inside them is dropped.
        var tail = Self.rows(500) { x, _ in x[0] > 0.5 }
        tail.labelEnds[390] = tail.times[450]
        let kept = GBTTrainer.purged(tail, tail: 100)
        XCTAssertEqual(kept.count, 499)
        XCTAssertFalse(kept.times.contains(tail.times[390]))
        XCTAssertEqual(Array(kept.times.suffix(100)), Array(tail.times.suffix(100)))
        XCTAssertEqual(GBTTrainer.purged(Self.rows(500) { x, _ in x[0] > 0.5 }, tail: 100).count, 500)
    }

    func testFoldsTrainOnThePastOnly() throws {
        // Times repeat in sevens, so a naive border would split rows that share a time.
        var rows = Self.rows(301) { x, _ in x[0] > 0.5 }
        rows.times = (0..<301).map { Int64($0 / 7) * 60_000 }
        rows.labelEnds = rows.times
        let trained = try ModelTraining.run(rows, folds: 4, hyperparameters: Self.small, threads: 1) { _ in true }
        let folds = trained.walkForward.folds
        XCTAssertEqual(folds.count, 4)
        XCTAssertEqual(folds.first!.testRange.lowerBound, folds.first!.trainRows)
        for (k, fold) in folds.enumerated() {
            XCTAssertEqual(fold.trainRows, fold.testRange.lowerBound, "fold \(k) trains on everything before its test rows")
            XCTAssertLessThan(rows.times[fold.trainRows - 1], rows.times[fold.testRange.lowerBound], "fold \(k)")
            XCTAssertEqual(fold.testStart, rows.times[fold.testRange.lowerBound])
            XCTAssertEqual(fold.testEnd, rows.times[fold.testRange.upperBound - 1])
            if k > 0 { XCTAssertEqual(fold.testRange.lowerBound, folds[k - 1].testRange.upperBound) }
        }
        XCTAssertEqual(folds.last!.testRange.upperBound, 301)
        XCTAssertEqual(trained.walkForward.model.count, 301 - folds[0].trainRows)
        // 301 rows / 5 chunks: borders 60, 120, 180, 240 each fall inside a group of seven rows
        // sharing a time and move to the group's end.
        XCTAssertEqual(try ModelTraining.chunkBorders(times: rows.times, folds: 4), [0, 63, 126, 182, 245, 301])
        XCTAssertEqual(try ModelTraining.chunkBorders(times: rows.times, folds: 4)[1], folds[0].trainRows)
        let json = trained.walkForward.jsonValue
        XCTAssertEqual(json["folds"], 4)
        XCTAssertEqual(json["fold_ranges"]?.arrayValue?.first?["test_start"], "1970-01-01T00:09:00Z")
    }

    func testTooFewRowsAndOneClassAreRefused() {
        let few = Self.rows(40) { x, _ in x[0] > 0.5 }
        XCTAssertThrowsError(try ModelTraining.run(few, folds: 4, hyperparameters: Self.small, threads: 1) { _ in true }) {
            XCTAssertTrue(String(describing: $0).hasPrefix("40 rows are too few for 4 folds"), "\($0)")
        }
        let oneClass = Self.rows(200) { _, _ in true }
        XCTAssertThrowsError(try GBTTrainer.train(oneClass, hyperparameters: Self.small, threads: 1)) {
            XCTAssertEqual(
                $0 as? TrainingError, .invalid("the 160 training rows are all labelled 1: a model needs both outcomes"))
        }
        var backwards = Self.rows(200) { x, _ in x[0] > 0.5 }
        backwards.times[50] = 0
        XCTAssertThrowsError(try ModelTraining.run(backwards, folds: 2, hyperparameters: Self.small, threads: 1) { _ in true }) {
            XCTAssertTrue(String(describing: $0).contains("not in time order"))
        }
    }

    func testDeterministicAndIndependentOfThreads() throws {
        // 9,000 rows: the gradients too are computed in two blocks on two threads.
        let rows = Self.rows(9000) { x, u in x[0] + 0.3 * (x[3].isNaN ? 0 : x[3]) + 0.4 * u > 0.7 }
        let encoded = try [1, 2, 3, 1].map { threads in
            JSONCodec.encodeString(try GBTTrainer.train(rows, hyperparameters: Self.small, threads: threads).jsonValue())
        }
        XCTAssertEqual(Set(encoded).count, 1)
    }

    func testTrainedModelReadsBackAndStopsEarly() throws {
        let rows = Self.rows(1000) { _, u in u < 0.5 }  // noise: the validation loss stops improving at once
        var p = Self.small
        p.trees = 200
        var calls = 0
        let model = try GBTTrainer.train(rows, hyperparameters: p, threads: 2) { _ in
            calls += 1; return true
        }
        XCTAssertLessThan(calls, 200)
        XCTAssertEqual(model.treeCount, calls - p.earlyStoppingRounds)
        XCTAssertEqual(model.baseScore, Float(Double(rows.labels[0..<800].reduce(0) { $0 + Int($1) }) / 800))
        let copy = try TreeEnsemble(jsonText: JSONCodec.encodeString(model.jsonValue()))
        for r in 0..<50 { XCTAssertEqual(copy.probability(rows.features.row(r)), model.probability(rows.features.row(r))) }
    }

    func testCancellation() {
        let rows = Self.rows(600) { x, _ in x[0] > 0.5 }
        var calls = 0
        XCTAssertThrowsError(
            try GBTTrainer.train(rows, hyperparameters: Self.small, threads: 1) { _ in
                calls += 1; return calls < 3
            }
        ) { XCTAssertEqual($0 as? TrainingError, .cancelled) }
        XCTAssertEqual(calls, 3)
        var stages: [String] = []
        XCTAssertThrowsError(
            try ModelTraining.run(rows, folds: 2, hyperparameters: Self.small, threads: 1) {
                stages.append($0.stage)
                return $0.stage != "fold 2 of 2"
            }
        ) { XCTAssertEqual($0 as? TrainingError, .cancelled) }
        XCTAssertEqual(stages.last, "fold 2 of 2")
        XCTAssertEqual(stages.first, "fold 1 of 2")
    }

    func testMetricsByHand() {
        let m = BinaryMetrics.evaluate(labels: [1, 0, 1, 0, 1], probabilities: [0.9, 0.2, 0.6, 0.6, 0.4])
        // Pairs (positive, negative): 1 + 1 + 1 + ½ (0.6 vs 0.6) + 1 + 0 = 4.5 of 6.
        XCTAssertEqual(m.auc!, 0.75, accuracy: 1e-12)
        XCTAssertEqual(m.accuracy, 0.6, accuracy: 1e-12)  // TP 2, FP 1, TN 1, FN 1
        XCTAssertEqual(m.precision, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.recall, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.f1, 2.0 / 3, accuracy: 1e-12)
        let loss = -(log(0.9) + log(0.8) + log(0.6) + log(0.4) + log(0.4)) / 5
        XCTAssertEqual(m.logLoss, loss, accuracy: 1e-12)
        let clipped = BinaryMetrics.evaluate(labels: [1, 1], probabilities: [0, 1])
        XCTAssertNil(clipped.auc)
        XCTAssertEqual(clipped.logLoss, -log(1e-15) / 2, accuracy: 1e-9)
        XCTAssertEqual(clipped.precision, 1)
        XCTAssertEqual(m.jsonValue["auc"], .double(0.75))
        XCTAssertEqual(clipped.jsonValue["auc"], .null)
    }

    func testHyperparametersFromJSON() throws {
        let p = try GBTHyperparameters(json: ["trees": 50, "learning_rate": 0.05, "depth": 3])
        XCTAssertEqual(p.trees, 50)
        XCTAssertEqual(p.depth, 3)
        XCTAssertEqual(p.learningRate, 0.05)
        XCTAssertEqual(
            try GBTHyperparameters(json: p.jsonValue.objectValue!.members.reduce(into: [:]) { $0[$1.key] = $1.value }), p)
        XCTAssertThrowsError(try GBTHyperparameters(json: ["tree": 5])) {
            XCTAssertTrue(String(describing: $0).hasPrefix("hyperparameters: unknown key \"tree\""))
        }
        XCTAssertThrowsError(try GBTHyperparameters(json: ["depth": 0])) {
            XCTAssertEqual(String(describing: $0), "hyperparameters: depth must be an integer in 1…10")
        }
        XCTAssertThrowsError(try GBTHyperparameters(json: ["learning_rate": 0])) {
            XCTAssertEqual(String(describing: $0), "hyperparameters: learning_rate must be a number in (0.0, 1.0]")
        }
        // The histograms' memory is bounded: the deepest trees with the most bins are refused.
        XCTAssertEqual(try GBTHyperparameters(json: ["depth": 10]).histogramBytes, 2 * 2 * 512 * 15 * 257 * 8)
        XCTAssertNoThrow(try GBTHyperparameters(json: ["depth": 8, "max_bins": 1024]))
        XCTAssertThrowsError(try GBTHyperparameters(json: ["depth": 10, "max_bins": 1024])) {
            XCTAssertEqual(
                String(describing: $0),
                "hyperparameters: depth 10 with max_bins 1024 needs 241 MB of histograms, over the trainer's 64 MB: "
                    + "lower depth or max_bins")
        }
    }
}
