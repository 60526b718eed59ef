import Foundation
import JSONCodec
import TradingCore

/// What a finished job produced: the report (JSON value and its stored text) and the CSV export,
/// and for a backtest whose report holds a sampled equity curve, the chart series of the PDF
/// export (`JobReport.chartSeries`).
struct JobOutcome: Sendable {
    var report: JSONValue
    var json: String
    var csv: String
    var chart: String? = nil
}

/// Runs one validated job on the calling (worker) thread: backtest or optimisation over the
/// loaded bars, reporting progress to and honouring cancellation from `control` (checked every
/// `barsPerCheck` bars, so a cancel takes effect within milliseconds).
enum JobRunner {
    /// The job stopped because `control` asked it to.
    struct Stopped: Error {}
    /// The job cannot produce a report (message for the client).
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Bars between two cancel checks and progress updates.
    static let barsPerCheck = 2048

    /// `scorer` is the loaded `request.mlModel` (nil for rules only). `backtestDone` is called
    /// after every backtest that ran to the end (for `/metrics`).
    static func run(
        _ request: JobRequest, series: BarSeries, scorer: (any SignalScorer)? = nil, control: JobControl,
        backtestDone: @escaping @Sendable () -> Void = {}
    ) throws -> JobOutcome {
        var config = request.config
        config.progressInterval = barsPerCheck
        if let scorer {
            config.scorer = scorer
            config.mlModel = request.mlModel
        }
        switch request.kind {
        case .backtest:
            try requireBars(series, request)
            let report: BacktestReport
            do {
                report = try Backtester.report(
                    series: series, strategyName: request.strategy, parameters: request.parameters,
                    config: config, compareRulesOnly: request.compareRulesOnly
                ) { control.advance($0.fraction) }.report
            } catch BacktestError.cancelled {
                throw Stopped()
            } catch {
                throw Failure(description: String(describing: error))
            }
            backtestDone()
            if !report.compare.isEmpty { backtestDone() }
            return JobReport.backtest(report)
        case .optimize:
            return try optimize(
                request, spec: request.optimize!, series: series, config: config, control: control,
                backtestDone: backtestDone)
        case .train:
            // Training files a model in the registry, so it needs the worker's connection:
            // `JobService` runs it through `train(_:series:control:threads:)`.
            throw Failure(description: "a training job runs through the job service")
        }
    }

    static func requireBars(_ series: BarSeries, _ request: JobRequest) throws {
        guard series.count > request.warmup else {
            throw Failure(
                description:
                    "the data has \(series.count) bars; \(request.strategy) needs more than \(request.warmup) bars to warm up before it can trade"
            )
        }
    }

    private static func optimize(
        _ request: JobRequest, spec: OptimizeSpec, series: BarSeries, config: BacktestConfig,
        control: JobControl, backtestDone: @escaping @Sendable () -> Void
    ) throws -> JobOutcome {
        let slices = SliceCache(series)
        let strategy = request.strategy
        let windows: [WalkForwardWindow]?
        if let k = spec.walkForward {
            do {
                windows = try Optimizer.walkForwardWindows(barCount: series.count, folds: k, minimumBlockBars: spec.warmup + 1)
            } catch {
                throw Failure(
                    description:
                        "the data has \(series.count) bars: too few for \(k) walk-forward folds (\(k + 3) blocks, each needs more than \(spec.warmup) bars)"
                )
            }
        } else {
            windows = nil
            try requireBars(series, request)
        }
        let k = windows?.count ?? 0
        let perRun = windows == nil ? spec.setsPerSearch : k * spec.setsPerSearch + k * k
        // With a rules-only comparison the same search runs twice: progress counts both.
        let runs = config.scorer != nil && request.compareRulesOnly ? [config, config.rulesOnly] : [config]
        let total = perRun * runs.count
        do {
            var outcomes: [(value: JSONValue, csv: String)] = []
            for (index, runConfig) in runs.enumerated() {
                let done = index * perRun
                let evaluate: BacktestEvaluator = { parameters, range in
                    // `arbiter.*` and `risk_per_trade` go into the configuration, the rest to the strategy.
                    let (setConfig, strategyParameters) = runConfig.applying(parameters)
                    let result = try Backtester.run(
                        series: slices[range], strategyName: strategy, parameters: strategyParameters,
                        config: setConfig
                    ) { control.advance(units: nil, of: total, inner: $0.fraction) }
                    backtestDone()
                    return BacktestReport(result)
                }
                // One thread per job: the pool runs jobs side by side, and progress stays exact.
                let options = OptimizationOptions(threads: 1) {
                    control.advance(units: done + $0.completed, of: total, inner: 0)
                }
                if let windows {
                    let result: WalkForwardResult
                    if case .bayesian(let trials, let seed) = spec.method {
                        result = try Optimizer.walkForward(
                            ranges: spec.ranges, trials: trials, seed: seed, fixed: request.parameters,
                            windows: windows, metric: spec.metric, options: options, evaluate: evaluate)
                    } else {
                        result = try Optimizer.walkForward(
                            candidates: spec.candidates, windows: windows, metric: spec.metric,
                            options: options, evaluate: evaluate)
                    }
                    if control.stopReason != nil { throw Stopped() }
                    outcomes.append(JobReport.walkForward(result, request: request, spec: spec))
                } else {
                    let result: OptimizationResult
                    if case .bayesian(let trials, let seed) = spec.method {
                        result = try Optimizer.bayesian(
                            ranges: spec.ranges, trials: trials, seed: seed, fixed: request.parameters,
                            range: 0..<series.count, metric: spec.metric, options: options, evaluate: evaluate)
                    } else {
                        result = try Optimizer.optimize(
                            candidates: spec.candidates, range: 0..<series.count, metric: spec.metric,
                            options: options, evaluate: evaluate)
                    }
                    if control.stopReason != nil { throw Stopped() }
                    outcomes.append(JobReport.optimization(result, request: request, spec: spec))
                }
            }
            let value = MLComparison.annotate(
                outcomes[0].value, mlModel: config.mlModel, rulesOnly: outcomes.dropFirst().first?.value)
            return JobReport.outcome(value, csv: outcomes[0].csv)
        } catch OptimizationError.cancelled {
            throw Stopped()
        } catch let error as OptimizationError {
            if control.stopReason != nil { throw Stopped() }
            throw Failure(description: String(describing: error))
        } catch let error as TPESearch.Error {
            throw Failure(description: error.description)
        }
    }
}
