import ArgumentParser
import JSONCodec
import TradingCore

/// `bedrock optimize` (SPEC §2): grid or random parameter search, ranked by a report metric,
/// optionally walk-forward; prints the ranking on stdout.
struct OptimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Parameter search; prints ranked results.",
        discussion: """
            Ranges: --grid name=a,b,c (values), name=lo:hi (whole steps) or name=lo:hi:step. \
            Random search draws --trials sets inside each range's bounds, reproducibly for a --seed. \
            Metrics: \(BacktestReport.metricNames.joined(separator: ", ")); higher is better except \
            \(BacktestReport.lowerIsBetter.sorted().joined(separator: ", ")).
            --walk-forward K cuts the data into K + 3 blocks; fold k optimises on blocks k..k+2 and \
            tests the winner on block k+3; the final ranking is by mean out-of-sample metric.
            Example: bedrock optimize --data btc-1h.csv --strategy sma_cross --grid fast=5,10,20 \
            --grid slow=30:90:10 --metric sharpe_ratio --walk-forward 4
            """)

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Market data CSV (SPEC §9).")
    var data: String

    @Option(help: "Strategy name.")
    var strategy: String

    @Option(name: .customLong("grid"), help: "Parameter range: name=a,b,c | name=lo:hi[:step] (repeatable).")
    var grids: [String] = []

    @Option(name: .customLong("param"), help: "Fixed parameter as name=value (repeatable).")
    var params: [String] = []

    @Option(help: "Metric to rank by.")
    var metric: String = "sharpe_ratio"

    @Option(help: "Search method: grid or random.")
    var method: OptimizeMethod = .grid

    @Option(help: "Parameter sets to draw with --method random.")
    var trials: Int = 100

    @Option(help: "Seed of --method random.")
    var seed: UInt64 = 42

    @Option(name: .customLong("walk-forward"), help: "Walk-forward with K rolling folds.")
    var walkForward: Int?

    @Option(help: "Worker threads (default: every core).")
    var threads: Int?

    @Option(help: "Ranked results to print.")
    var top: Int = 20

    @OptionGroup var costs: BacktestCostOptions

    @OptionGroup var model: MLModelOptions

    @Option(help: "Output format: text or json.")
    var format: OptimizeFormat = .text

    func run() throws {
        let descriptor = try TradingCLI.strategy(strategy)
        guard BacktestReport.metricNames.contains(metric) else {
            throw TradingCLI.usageError(String(describing: BacktestReport.UnknownMetric(name: metric)))
        }
        guard !grids.isEmpty else { throw TradingCLI.usageError("give at least one --grid name=a,b,c") }
        guard trials > 0 else { throw TradingCLI.usageError("--trials must be positive") }
        guard top > 0 else { throw TradingCLI.usageError("--top must be positive") }
        if let t = threads, t < 1 { throw TradingCLI.usageError("--threads must be positive") }
        if let k = walkForward, k < 1 { throw TradingCLI.usageError("--walk-forward must be at least 1") }
        let fixed = try TradingCLI.parameters(params)
        let ranges = try parseRanges(descriptor)
        if let clash = ranges.first(where: { fixed[$0.name] != nil }) {
            throw TradingCLI.usageError("parameter '\(clash.name)' is given both as --param and --grid")
        }
        let compare = try model.comparesRulesOnly()
        let config = try model.apply(to: costs.config())
        let candidates: [[String: Double]]
        do {
            candidates = try SearchSpace.candidates(
                ranges, method: method == .grid ? .grid : .random(trials: trials, seed: seed), fixed: fixed)
        } catch {
            throw TradingCLI.usageError(String(describing: error))
        }
        // Warm-up of the slowest set decides how many bars the data (or a window) needs.
        var warmup = 0
        for c in candidates { if let w = try? descriptor.make(c).warmupBars { warmup = max(warmup, w) } }
        if warmup == 0, let first = candidates.first {
            _ = try TradingCLI.validate(first, for: descriptor)  // every set invalid: say why
        }
        let series = try TradingCLI.load(data)
        let options = OptimizationOptions(threads: threads ?? OptimizationOptions.defaultThreads)
        let runs = compare ? [config, config.rulesOnly] : [config]
        let evaluators = runs.map { Optimizer.backtestEvaluator(series: series, strategyName: descriptor.name, config: $0) }
        do {
            if let k = walkForward {
                let windows: [WalkForwardWindow]
                do {
                    windows = try Optimizer.walkForwardWindows(
                        barCount: series.count, folds: k,
                        minimumBlockBars: warmup + 1)
                } catch {
                    throw TradingCLI.failure(
                        "\(data) has \(series.count) bars: too few for \(k) walk-forward folds "
                            + "(\(k + 3) blocks, each needs more than \(warmup) bars to warm up \(descriptor.name))")
                }
                let results = try evaluators.map {
                    try Optimizer.walkForward(
                        candidates: candidates, windows: windows, metric: metric, options: options, evaluate: $0)
                }
                output(results.map { $0.jsonValue() }, texts: results.map { $0.text() }, config: config)
            } else {
                try TradingCLI.requireBars(series, warmup: warmup, path: data, strategy: descriptor.name)
                let results = try evaluators.map {
                    try Optimizer.optimize(
                        candidates: candidates, range: 0..<series.count, metric: metric, options: options, evaluate: $0)
                }
                output(results.map { $0.jsonValue(top: top) }, texts: results.map { $0.text(top: top) }, config: config)
            }
        } catch let error as OptimizationError {
            throw TradingCLI.failure(String(describing: error))
        }
    }

    /// Prints the run with the model (or the only run) and, when compared, the rules-only run:
    /// JSON with `ml_model` and `compare`, or the texts one after the other.
    private func output(_ values: [JSONValue], texts: [String], config: BacktestConfig) {
        switch format {
        case .json:
            let value = MLComparison.annotate(values[0], mlModel: config.mlModel, rulesOnly: values.dropFirst().first)
            TradingCLI.output(JSONCodec.encodeString(value, doubles: .shortest) + "\n")
        case .text:
            var text = texts[0]
            if let name = config.mlModel { text = "ML model: \(name)\n" + text }
            if texts.count > 1 { text += "\nRules only (the same search without the ML model):\n" + texts[1] }
            TradingCLI.output(text)
        }
    }

    /// `--grid` values as ranges; exit 2 on a malformed range, an unknown parameter (listing the
    /// valid ones) or a value outside the parameter's valid range.
    private func parseRanges(_ descriptor: StrategyDescriptor) throws -> [ParameterRange] {
        let specs = descriptor.parameterSpecs
        return try grids.map { text in
            var range: ParameterRange
            do { range = try ParameterRange.parse(text) } catch {
                throw TradingCLI.usageError(String(describing: error))
            }
            guard let spec = specs.first(where: { $0.name == range.name }) else {
                throw TradingCLI.usageError(
                    String(
                        describing: StrategyError.unknownParameter(
                            strategy: descriptor.name, name: range.name, valid: specs)))
            }
            if let bad = range.values.first(where: { $0 < spec.min || $0 > spec.max || (spec.isInteger && $0 != $0.rounded()) }) {
                throw TradingCLI.usageError(
                    "--grid \(range.name) value \(TextFormat.plain(bad)) is not valid; "
                        + "valid: \(spec.displayText)")
            }
            range.isInteger = spec.isInteger
            return range
        }
    }
}
