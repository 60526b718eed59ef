import Digests
import JSONCodec
import RedisClient
import TradingCore

/// A model trained by a `train` job, before it is filed in the registry.
public struct TrainedModelRecord: Sendable {
    /// Registry name.
    public var name: String
    /// The model and its walk-forward evaluation.
    public var trained: TrainedModel
    /// `{"id","sha256","rows","start","end"}`: what it was trained on (`JobRunner.datasetInfo`).
    public var dataset: JSONValue
    /// The strategy whose signals it scores, and that strategy's parameters.
    public var strategy: String
    /// The strategy's parameters (defaults filled in).
    public var parameters: [String: Double]
}

/// Files a trained model in the registry and answers its version JSON (SPEC §11 model version);
/// runs on the job's worker thread with its connection.
public typealias TrainedModelSink = @Sendable (TrainedModelRecord, RedisConnection) throws -> JSONValue

extension JobRunner {
    /// Share of a training job's progress spent building the labelled dataset.
    static let datasetShare = 0.15

    /// A `train` job: every signal of the strategy over the bars, labelled by its own trade
    /// (`SignalDataset`), then walk-forward evaluation and the final model (`ModelTraining`).
    static func train(_ request: JobRequest, series: BarSeries, control: JobControl, threads: Int) throws -> TrainedModelRecord {
        guard let spec = request.training else { throw Failure(description: "not a training job") }
        try requireBars(series, request)
        let parameters: [String: Double]
        do {
            parameters = try StrategyRegistry.descriptor(named: request.strategy).resolve(request.parameters).values
        } catch {
            throw Failure(description: "params: \(error)")
        }
        let signals: [LabeledSignal]
        do {
            signals = try SignalDataset.build(
                series: series, strategy: request.strategy, parameters: parameters, config: request.config
            ) { control.advance($0 * datasetShare) }
        } catch {
            if control.stopReason != nil { throw Stopped() }
            throw Failure(description: String(describing: error))
        }
        if control.stopReason != nil { throw Stopped() }
        let rows = SignalDataset.rows(signals)
        let trained: TrainedModel
        do {
            trained = try ModelTraining.run(
                rows, folds: spec.folds, hyperparameters: spec.hyperparameters, threads: threads
            ) { control.advance(datasetShare + (1 - datasetShare) * $0.fraction) }
        } catch TrainingError.cancelled {
            throw Stopped()
        } catch TrainingError.invalid(let why) {
            throw Failure(
                description: "cannot train on \(signals.count) labelled signals of \(request.strategy): \(why)")
        }
        return TrainedModelRecord(
            name: spec.modelName, trained: trained,
            dataset: datasetInfo(request.data, signals: signals),
            strategy: request.strategy, parameters: parameters)
    }

    /// `{"id","sha256","rows","start","end"}` of a training set: `id` names the data (the dataset
    /// file, or `klines:{MARKET}:{INTERVAL}`), `sha256` is the digest of the labelled rows as
    /// `bedrock features` writes them (`bedrock features ... | sha256sum` of the same data and
    /// strategy prints the same digest), `rows` the
    /// labelled signals, `start`/`end` the first and last signal's bar time.
    static func datasetInfo(_ source: JobDataSource, signals: [LabeledSignal]) -> JSONValue {
        let id: String, market: String
        switch source {
        case let .dataset(name, _, _, _): (id, market) = (name, FeatureCSV.market(fromPath: name))
        case let .market(name, interval, _, _): (id, market) = ("klines:\(name):\(interval)", name)
        }
        let csv = FeatureCSV.write(rows: FeatureCSV.rows(signals, market: market))
        return [
            "id": .string(id), "sha256": .string(SHA256.hex(csv)), "rows": .int(Int64(signals.count)),
            "start": signals.first.map { .string(RFC3339.format(milliseconds: $0.time)) } ?? .null,
            "end": signals.last.map { .string(RFC3339.format(milliseconds: $0.time)) } ?? .null,
        ]
    }

    /// The report of a finished training job: `{"kind":"train","model": <the version JSON>}`;
    /// CSV: one row per walk-forward fold with the model's and the baseline's metrics.
    static func trainingOutcome(version: JSONValue, record: TrainedModelRecord) -> JobOutcome {
        let report: JSONValue = ["kind": "train", "model": version]
        let columns = ["accuracy", "precision", "recall", "f1", "auc", "log_loss"]
        var lines = [
            (["fold", "train_rows", "test_rows", "test_start", "test_end"] + columns.map { "model_" + $0 }
                + columns.map { "baseline_" + $0 }).joined(separator: ",")
        ]
        for (i, fold) in record.trained.walkForward.folds.enumerated() {
            var cells = [
                "\(i + 1)", "\(fold.trainRows)", "\(fold.testRange.count)",
                RFC3339.format(milliseconds: fold.testStart), RFC3339.format(milliseconds: fold.testEnd),
            ]
            for metrics in [fold.model, fold.baseline] {
                cells += [metrics.accuracy, metrics.precision, metrics.recall, metrics.f1].map(TextFormat.plain)
                cells.append(metrics.auc.map(TextFormat.plain) ?? "")
                cells.append(TextFormat.plain(metrics.logLoss))
            }
            lines.append(cells.joined(separator: ","))
        }
        return JobReport.outcome(report, csv: lines.joined(separator: "\n") + "\n")
    }
}
