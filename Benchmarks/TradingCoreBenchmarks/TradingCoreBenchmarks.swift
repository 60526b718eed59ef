// TradingCore figures (docs/BENCHMARKS.md, "Trading core"): sma_cross and pullback backtests in
// bars/s on one thread (targets ≥ 10 M and ≥ 2 M), CSV loading in rows/s (≥ 1 M), what
// `bedrock features` does with 1,000,000 bars (< 5 s), and the
// optimiser's wall time on every core against one core (≤ 60 %). Data: `syntheticSeries`, in
// memory; the CSV figure reads it back from a temp file. Run with
// `swift package benchmark --target TradingCoreBenchmarks` in Benchmarks/.
import Benchmark
import Foundation
import TradingCore

/// Bars in each backtest.
let backtestBars = 2_000_000
/// Rows in the CSV file.
let csvRows = 1_000_000
/// Bars in each optimiser backtest (≈ 5.7 years of hourly data); the second row uses 4× that.
let optimizerBars = 50_000

/// The series every benchmark reads, made once (the first benchmark pays for it outside its
/// measurement: globals are initialised on first use, and the warm-up run uses it first).
let series = syntheticSeries(bars: backtestBars)
let cores = ProcessInfo.processInfo.activeProcessorCount
let csvPath = NSTemporaryDirectory() + "bedrock-bench-\(getpid()).csv"

extension BenchmarkMetric {
    static let barsPerSecond = BenchmarkMetric.custom("bars/s", polarity: .prefersLarger, useScalingFactor: false)
    static let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)
    static let oneThread = BenchmarkMetric.custom("1 thread (μs)", polarity: .prefersSmaller, useScalingFactor: false)
    static let allCores = BenchmarkMetric.custom("every core (μs)", polarity: .prefersSmaller, useScalingFactor: false)
    static let scaling = BenchmarkMetric.custom("every core ÷ 1 thread (%)", polarity: .prefersSmaller, useScalingFactor: false)
}

/// Wall-clock seconds of `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let elapsed = try ContinuousClock().measure(body).components
    return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
}

/// The optimiser's grid: 6 × 6 `sma_cross` sets (fast 5…20, slow 30…100), ranked by Sharpe ratio.
let candidates = try! SearchSpace.candidates(
    [
        ParameterRange(name: "fast", values: [5, 8, 10, 12, 15, 20]),
        ParameterRange(name: "slow", values: [30, 40, 50, 60, 80, 100]),
    ], method: .grid)

/// One 1-thread and one every-core optimisation of the grid over the first `bars` bars, in that
/// order (so a change in the machine's load hits both alike); fails unless both rank alike.
func measureScaling(_ benchmark: Benchmark, bars: Int) throws {
    let slice = series.slice(0..<min(bars, series.count))
    let evaluate = Optimizer.backtestEvaluator(series: slice, strategyName: "sma_cross", config: BacktestConfig())
    var rankings: [String] = []
    var times: [Double] = []
    for threads in [1, cores] {
        times.append(
            try seconds {
                let result = try Optimizer.optimize(
                    candidates: candidates, range: 0..<slice.count, metric: "sharpe_ratio",
                    options: OptimizationOptions(threads: threads), evaluate: evaluate)
                rankings.append(result.json())
            })
    }
    guard rankings[0] == rankings[1] else { throw OptimizerScalingError.rankingsDiffer(threads: cores) }
    benchmark.measurement(.oneThread, Int(times[0] * 1e6))
    benchmark.measurement(.allCores, Int(times[1] * 1e6))
    benchmark.measurement(.scaling, Int((times[1] / times[0] * 100).rounded()))
}

enum OptimizerScalingError: Error {
    /// The ranking on every core was not the ranking on one thread.
    case rankingsDiffer(threads: Int)
}

/// Each benchmark runs at most 7 times after one warm-up (the machine is shared: the best run is
/// the least disturbed one, the median the usual one). `custom` lists the benchmark's own metrics
/// with the unit each is shown in (rates in thousands, times and ratios as recorded).
func configuration(
    _ custom: KeyValuePairs<BenchmarkMetric, BenchmarkUnits>, setup: Benchmark.BenchmarkSetupHook? = nil,
    teardown: Benchmark.BenchmarkTeardownHook? = nil
) -> Benchmark.Configuration {
    .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident] + custom.map(\.key),
        units: Dictionary(uniqueKeysWithValues: custom.map { ($0.key, $0.value) }),
        warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 7, setup: setup, teardown: teardown)
}

let benchmarks: @Sendable () -> Void = {
    let config = BacktestConfig()  // 0.1 % commission, sizing and risk guard as live

    Benchmark("sma_cross backtest, 2,000,000 bars, 1 thread", configuration: configuration([.barsPerSecond: .kilo])) {
        benchmark in
        let strategy = try SMACrossStrategy(fast: 10, slow: 20)
        var result: BacktestResult?
        let t = try seconds { result = try Backtester.run(series: series, strategy: strategy, config: config) }
        blackHole(result)
        benchmark.measurement(.barsPerSecond, Int(Double(series.count) / t))
    }

    Benchmark("pullback backtest (triple exits), 2,000,000 bars, 1 thread", configuration: configuration([.barsPerSecond: .kilo]))
    { benchmark in
        var result: BacktestResult?
        let t = try seconds { result = try Backtester.run(series: series, strategyName: "pullback", config: config) }
        blackHole(result)
        benchmark.measurement(.barsPerSecond, Int(Double(series.count) / t))
    }

    Benchmark(
        "CSV load, 1,000,000 rows (ISO times, file read included)",
        configuration: configuration(
            [.rowsPerSecond: .kilo],
            setup: { try writeCSV(series, rows: csvRows, to: csvPath) },
            teardown: { try? FileManager.default.removeItem(atPath: csvPath) })
    ) { benchmark in
        var loaded: BarSeries?
        let t = try seconds { loaded = try MarketData.load(path: csvPath) }
        benchmark.measurement(.rowsPerSecond, Int(Double(loaded?.count ?? 0) / t))
    }

    Benchmark(
        "bedrock features, 1,000,000 bars (CSV load, pullback signals labelled, CSV text)",
        configuration: configuration(
            [.barsPerSecond: .kilo],
            setup: {
                // The sample market's generator (`bedrock sample-data --bars 1000000`).
                let sample = SyntheticMarket.generate(.btcusdt, bars: csvRows, seed: 1)
                try SyntheticMarket.csv(sample).write(toFile: csvPath, atomically: false, encoding: .utf8)
            },
            teardown: { try? FileManager.default.removeItem(atPath: csvPath) })
    ) { benchmark in
        var text = ""
        let t = try seconds {
            let bars = try MarketData.load(path: csvPath)
            let signals = try SignalDataset.build(series: bars, strategy: "pullback", parameters: [:], config: config)
            text = FeatureCSV.write(rows: FeatureCSV.rows(signals, market: "BENCH"))
        }
        blackHole(text)
        benchmark.measurement(.barsPerSecond, Int(Double(csvRows) / t))
    }

    Benchmark(
        "optimiser, 36 sets × 50,000 bars: every core vs 1 thread",
        configuration: configuration([.oneThread: .count, .allCores: .count, .scaling: .count])
    ) { benchmark in
        try measureScaling(benchmark, bars: optimizerBars)
    }

    Benchmark(
        "optimiser, 36 sets × 200,000 bars: every core vs 1 thread",
        configuration: configuration([.oneThread: .count, .allCores: .count, .scaling: .count])
    ) { benchmark in
        try measureScaling(benchmark, bars: 4 * optimizerBars)
    }

    registerMLBenchmarks()
    registerTPEBenchmarks()
}
