import ArgumentParser
import Foundation
import JSONCodec
import TradingCore

/// `bedrock train` (SPEC §11): trains Bedrock's gradient-boosted trees on a strategy's labelled
/// signals (market data files and a strategy, or a features CSV), prints the walk-forward metrics
/// beside the always-majority baseline and writes the model (XGBoost JSON, loadable by xgboost,
/// `bedrock predict`, `--ml-model` and the model registry's import).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an ML confidence model on a strategy's signals and report its walk-forward quality.",
        discussion: """
            The rows are the strategy's signals over the --data files, labelled as bedrock \
            features labels them (1 when the signal's own trade wins), or a features CSV. Rows are split in K+1 time-ordered chunks; fold k trains on the chunks before k and \
            tests on chunk k. The metrics pool every fold's test rows; the baseline always \
            predicts the majority label of its fold's training rows. The model written is then \
            trained on every row. Other settings: docs/ML.md.
            Example: bedrock train --data BTCUSDT-1h.csv --strategy pullback --out model.json --folds 5
            or: bedrock train --features features.csv --out model.json --trees 200 --depth 6
            """)

    @OptionGroup var input: TrainingDataOptions

    @Option(help: "Where to write the model (XGBoost JSON).")
    var out: String

    @Option(help: "Walk-forward folds (1–20).")
    var folds = 5

    @Option(help: "Boosting rounds (trees).")
    var trees = GBTHyperparameters().trees

    @Option(help: "Maximum tree depth (1–10).")
    var depth = GBTHyperparameters().depth

    @Option(help: "Learning rate (eta), in (0, 1].")
    var learningRate = GBTHyperparameters().learningRate

    @Option(help: "Seed, recorded with the model.")
    var seed = GBTHyperparameters().seed

    @Option(help: "Worker threads (default: every core).")
    var threads: Int?

    func run() throws {
        let hyperparameters: GBTHyperparameters
        do {
            hyperparameters = try GBTHyperparameters(json: [
                "trees": .int(Int64(trees)), "depth": .int(Int64(depth)), "learning_rate": .double(learningRate),
                "seed": .int(Int64(seed)),
            ])
        } catch {
            // "hyperparameters: learning_rate must be …" → "--learning-rate must be …"
            let option = error.message.replacingOccurrences(of: "hyperparameters: ", with: "--")
            throw TradingCLI.usageError(option.replacingOccurrences(of: "learning_rate", with: "learning-rate"))
        }
        if let t = threads, t < 1 { throw TradingCLI.usageError("--threads must be positive") }
        guard (1...20).contains(folds) else { throw TradingCLI.usageError("--folds must be 1…20, got \(folds)") }
        let directory = (out as NSString).deletingLastPathComponent
        guard FileManager.default.isWritableFile(atPath: directory.isEmpty ? "." : directory) else {
            throw TradingCLI.failure("cannot write \(out): \(directory.isEmpty ? "." : directory) is not a writable directory")
        }
        let rows = try input.rows()
        var stage = ""
        let trained: TrainedModel
        do {
            trained = try ModelTraining.run(
                rows, folds: folds, hyperparameters: hyperparameters,
                threads: threads ?? ProcessInfo.processInfo.activeProcessorCount
            ) { progress in
                if progress.stage != stage {
                    stage = progress.stage
                    FileHandle.standardError.write(Data("training: \(stage)\n".utf8))
                }
                return true
            }
        } catch { throw TradingCLI.failure("\(input.source): \(error)") }
        try ModelCLI.write(JSONCodec.encodeString(trained.ensemble.jsonValue(), doubles: .shortest), to: out)
        TradingCLI.output(Self.report(trained, path: out))
    }

    /// The metrics table.
    static func report(_ trained: TrainedModel, path: String) -> String {
        let wf = trained.walkForward
        let first = wf.folds.first.map { RFC3339.format(milliseconds: $0.testStart) } ?? "-"
        let last = wf.folds.last.map { RFC3339.format(milliseconds: $0.testEnd) } ?? "-"
        func cell(_ d: Double?) -> String { d.map { String(format: "%.4f", $0) } ?? "n/a" }
        func line(_ name: String, _ m: Double?, _ b: Double?) -> String {
            name.padding(toLength: 11, withPad: " ", startingAt: 0) + cell(m).padding(toLength: 10, withPad: " ", startingAt: 0)
                + cell(b) + "\n"
        }
        var text = "walk-forward: \(wf.folds.count) folds, \(wf.rows) rows, \(wf.model.count) out of sample "
        text += "(\(first) … \(last)), \(wf.model.positives) positive\n"
        text += "metric     model     baseline\n"
        text += line("accuracy", wf.model.accuracy, wf.baseline.accuracy)
        text += line("precision", wf.model.precision, wf.baseline.precision)
        text += line("recall", wf.model.recall, wf.baseline.recall)
        text += line("f1", wf.model.f1, wf.baseline.f1)
        text += line("auc", wf.model.auc, wf.baseline.auc)
        text += line("log_loss", wf.model.logLoss, wf.baseline.logLoss)
        let p = trained.hyperparameters
        let tail = p.earlyStoppingRounds > 0 ? Int(Double(wf.rows) * p.validationFraction) : 0
        let grown = tail > 0 ? "grown on the first \(wf.rows - tail) rows, stopped on the last \(tail)" : "grown on all rows"
        text += "model: \(trained.ensemble.treeCount) trees \(grown), base_score \(trained.ensemble.baseScore) → \(path)\n"
        return text
    }
}
