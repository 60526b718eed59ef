// Bayesian search figures: the Tree-structured Parzen Estimator's own bookkeeping per trial (fitting
// the good and bad densities, drawing and weighing candidates), without any backtest. The objective
// is a quadratic bowl over 3 parameters (whole numbers, continuous, stepped), evaluated directly.
import Benchmark
import TradingCore

extension BenchmarkMetric {
    static let microsPerTrial = BenchmarkMetric.custom("μs per trial", polarity: .prefersSmaller, useScalingFactor: false)
}

/// The searched space: 0…100 whole, −5…5.5 continuous, 0…2 by 0.1.
let tpeRanges = [
    ParameterRange(name: "n", values: [0, 100]),
    ParameterRange(name: "x", values: [-5, 5.5]),
    try! ParameterRange.parse("k=0:2:0.1"),
]

/// Microseconds of TPE work per trial over a whole search of `trials` trials.
func measureTPE(_ benchmark: Benchmark, trials: Int) throws {
    var proposed = 0
    let t = try seconds {
        var search = try TPESearch(ranges: tpeRanges, trials: trials, seed: 42, lowerIsBetter: true)
        while let batch = search.nextBatch() {
            search.record(
                batch.map { p in
                    let n = (p["n"]! - 63) / 100, x = (p["x"]! - 1.3) / 10.5, k = (p["k"]! - 0.7) / 2
                    return n * n + x * x + k * k
                })
            proposed += batch.count
        }
    }
    benchmark.measurement(.microsPerTrial, Int((t * 1e6 / Double(max(proposed, 1))).rounded()))
}

func registerTPEBenchmarks() {
    for trials in [100, 1_000] {
        Benchmark(
            "TPE bookkeeping per trial, 3 parameters, a search of \(trials) trials (no backtests)",
            configuration: configuration([.microsPerTrial: .count])
        ) { benchmark in
            try measureTPE(benchmark, trials: trials)
        }
    }
}
