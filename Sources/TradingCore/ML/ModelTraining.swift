import JSONCodec

/// Out-of-sample quality of a training run: K walk-forward folds, each trained on the past only,
/// with the metrics pooled over every fold's test rows (AUC averaged over the folds), beside the
/// always-majority baseline.
public struct WalkForwardReport: Sendable, Equatable {
    /// One fold: trained on rows `0..<trainRows`, tested on `testRange`.
    public struct Fold: Sendable, Equatable {
        /// Training rows (the first `trainRows` rows).
        public var trainRows: Int
        /// Test rows (row indices), all later in time than every training row.
        public var testRange: Range<Int>
        /// Time of the first and last test row (ms since the epoch).
        public var testStart: Int64
        public var testEnd: Int64
        /// The fold's model and baseline on its test rows.
        public var model: BinaryMetrics
        public var baseline: BinaryMetrics
    }

    /// The folds, in time order.
    public var folds: [Fold]
    /// Rows in the data set.
    public var rows: Int
    /// The models' metrics over all out-of-sample rows (`auc`: the folds' AUCs averaged by test
    /// rows, `ModelTraining.foldMeanAUC`).
    public var model: BinaryMetrics
    /// The baseline's: each fold predicts its training rows' majority label, with their
    /// positive rate as the probability.
    public var baseline: BinaryMetrics

    /// `{"folds":K,"rows":N,"model":{...},"baseline":{...},"fold_ranges":[{"train_rows","test_rows",
    /// "test_start","test_end"}]}` (times RFC 3339).
    public var jsonValue: JSONValue {
        .object([
            ("folds", .int(Int64(folds.count))), ("rows", .int(Int64(rows))), ("model", model.jsonValue),
            ("baseline", baseline.jsonValue),
            (
                "fold_ranges",
                .array(
                    folds.map {
                        .object([
                            ("train_rows", .int(Int64($0.trainRows))), ("test_rows", .int(Int64($0.testRange.count))),
                            ("test_start", .string(RFC3339.format(milliseconds: $0.testStart))),
                            ("test_end", .string(RFC3339.format(milliseconds: $0.testEnd))),
                        ])
                    })
            ),
        ])
    }
}

/// A trained model with its out-of-sample report and the settings that made it.
public struct TrainedModel: Sendable {
    /// The model trained on every row.
    public var ensemble: TreeEnsemble
    /// Walk-forward quality.
    public var walkForward: WalkForwardReport
    /// The trainer's settings.
    public var hyperparameters: GBTHyperparameters
}

/// Walk-forward training: how good a model trained on the past is on the future, then the model
/// itself.
public enum ModelTraining {
    /// The fewest rows a chunk (one fold's test rows) may hold.
    public static let minimumChunkRows = 10

    /// K time-ordered walk-forward folds (rows split in K+1 consecutive chunks, fold k trains on
    /// chunks 0..<k, tests on chunk k), then the final model on all rows. Chunk borders move
    /// forward past rows sharing a time, so every training row is earlier than every test row.
    /// Deterministic for a seed; parallel on `threads`; `progress` (stage "fold k of K", then
    /// "final model") returns false to cancel.
    /// - Throws: `TrainingError.cancelled`, or `.invalid` (too few rows, a fold whose training
    ///   rows hold one class, unordered times).
    public static func run(
        _ rows: LabeledRows, folds: Int, hyperparameters: GBTHyperparameters, threads: Int,
        progress: (TrainingProgress) -> Bool
    ) throws(TrainingError) -> TrainedModel {
        let borders = try chunkBorders(times: rows.times, folds: folds)
        let stages = Double(folds + 1)
        var reports: [WalkForwardReport.Fold] = []
        var labels: [UInt8] = []
        var modelProbabilities: [Double] = []
        var baselineProbabilities: [Double] = []
        for k in 1...folds {
            let train = rows.slice(0..<borders[k])
            let test = borders[k]..<borders[k + 1]
            let stage = "fold \(k) of \(folds)"
            let model: TreeEnsemble
            do {
                model = try GBTTrainer.train(train, hyperparameters: hyperparameters, threads: threads) {
                    progress(TrainingProgress(stage: stage, fraction: (Double(k - 1) + $0.fraction) / stages))
                }
            } catch .invalid(let reason) {
                throw .invalid("\(stage): \(reason)")
            }
            let rate = Double(train.labels.reduce(0) { $0 + Int($1) }) / Double(train.count)
            let foldLabels = Array(rows.labels[test])
            var predicted: [Double] = []
            predicted.reserveCapacity(test.count)
            rows.features.values.withUnsafeBufferPointer { values in
                for r in test {
                    let start = r * rows.features.columns
                    predicted.append(
                        model.probability(UnsafeBufferPointer(rebasing: values[start..<start + rows.features.columns])))
                }
            }
            let baseline = [Double](repeating: rate, count: test.count)
            reports.append(
                WalkForwardReport.Fold(
                    trainRows: train.count, testRange: test, testStart: rows.times[test.lowerBound],
                    testEnd: rows.times[test.upperBound - 1],
                    model: BinaryMetrics.evaluate(labels: foldLabels, probabilities: predicted),
                    baseline: BinaryMetrics.evaluate(labels: foldLabels, probabilities: baseline)))
            labels += foldLabels
            modelProbabilities += predicted
            baselineProbabilities += baseline
        }
        let final: TreeEnsemble
        do {
            final = try GBTTrainer.train(rows, hyperparameters: hyperparameters, threads: threads) {
                progress(TrainingProgress(stage: "final model", fraction: (Double(folds) + $0.fraction) / stages))
            }
        } catch .invalid(let reason) {
            throw .invalid("final model: \(reason)")
        }
        var model = BinaryMetrics.evaluate(labels: labels, probabilities: modelProbabilities)
        var baseline = BinaryMetrics.evaluate(labels: labels, probabilities: baselineProbabilities)
        model.auc = foldMeanAUC(reports.map { ($0.model.auc, $0.testRange.count) })
        baseline.auc = foldMeanAUC(reports.map { ($0.baseline.auc, $0.testRange.count) })
        let report = WalkForwardReport(folds: reports, rows: rows.count, model: model, baseline: baseline)
        return TrainedModel(ensemble: final, walkForward: report, hyperparameters: hyperparameters)
    }

    /// The AUC of a walk-forward run: the folds' AUCs averaged with their test rows as weights
    /// (folds whose test rows hold one class have none; nil when no fold has one). Each fold's
    /// scores come from its own model, so they are ranked only against each other: pooling them
    /// would rank one fold's scores against another's, and give the always-majority baseline,
    /// whose probability is a different constant in every fold, an AUC other than 0.5.
    static func foldMeanAUC(_ folds: [(auc: Double?, rows: Int)]) -> Double? {
        var sum = 0.0, weight = 0
        for fold in folds {
            guard let auc = fold.auc else { continue }
            sum += auc * Double(fold.rows)
            weight += fold.rows
        }
        return weight > 0 ? sum / Double(weight) : nil
    }

    /// The K+2 row borders of K+1 consecutive chunks: chunk c is `borders[c]..<borders[c+1]`.
    /// Each inner border moves forward past rows with the same time as the row before it.
    /// - Throws: `.invalid` when K is out of 1…20, times go backwards or a chunk gets too few rows.
    static func chunkBorders(times: [Int64], folds: Int) throws(TrainingError) -> [Int] {
        guard (1...20).contains(folds) else { throw .invalid("folds must be 1…20, got \(folds)") }
        let n = times.count
        if let i = times.indices.dropFirst().first(where: { times[$0] < times[$0 - 1] }) {
            throw .invalid("rows are not in time order (row \(i) is earlier than row \(i - 1))")
        }
        var borders = [0]
        for c in 1...folds {
            var b = max(c * n / (folds + 1), borders[c - 1])
            while b < n && b > 0 && times[b] == times[b - 1] { b += 1 }
            borders.append(b)
        }
        borders.append(n)
        for c in 0...folds where borders[c + 1] - borders[c] < minimumChunkRows {
            throw .invalid(
                "\(n) rows are too few for \(folds) folds: each of the \(folds + 1) time-ordered chunks needs at least "
                    + "\(minimumChunkRows) rows (chunk \(c) has \(borders[c + 1] - borders[c]))")
        }
        return borders
    }
}
