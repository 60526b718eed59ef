// ML figures (docs/BENCHMARKS.md, "ML model"): scoring one signal with a 300-tree depth-6
// XGBoost-format model (target < 20 µs, no allocation per tree) and training 200 depth-6 trees on
// 10,000 and 100,000 rows × 15 features on every core (and 100,000 on one thread) (target < 30 s and < 500 MB at 100,000).
import Benchmark
import JSONCodec
import TradingCore

/// A model of `trees` complete trees of depth `depth` (every path as long as it can be), random
/// splits over the 15 features, in XGBoost's JSON format, read by `TreeEnsemble`.
func completeTreesModel(trees: Int, depth: Int) -> TreeEnsemble {
    var random = SplitMix64(seed: 1)
    let inner = (1 << depth) - 1
    let nodes = 2 * inner + 1
    var treeValues: [JSONValue] = []
    for id in 0..<trees {
        var left: [JSONValue] = []
        var right: [JSONValue] = []
        var conditions: [JSONValue] = []
        var features: [JSONValue] = []
        var defaults: [JSONValue] = []
        for n in 0..<nodes {
            let isInner = n < inner
            left.append(.int(isInner ? Int64(2 * n + 1) : -1))
            right.append(.int(isInner ? Int64(2 * n + 2) : -1))
            conditions.append(.double(isInner ? random.nextUnit() * 2 - 1 : (random.nextUnit() - 0.5) * 0.1))
            features.append(.int(isInner ? Int64(random.nextUnit() * 15) : 0))
            defaults.append(.int(random.nextUnit() < 0.5 ? 1 : 0))
        }
        let zeros = JSONValue.array([JSONValue](repeating: 0, count: nodes))
        treeValues.append([
            "id": .int(Int64(id)), "left_children": .array(left), "right_children": .array(right),
            "split_conditions": .array(conditions), "split_indices": .array(features), "default_left": .array(defaults),
            "split_type": zeros, "base_weights": zeros, "loss_changes": zeros, "sum_hessian": zeros,
        ])
    }
    let json: JSONValue = [
        "learner": [
            "feature_names": [], "objective": ["name": "binary:logistic"],
            "gradient_booster": ["name": "gbtree", "model": ["trees": .array(treeValues)]],
            "learner_model_param": ["base_score": "[5E-1]", "num_class": "0", "num_feature": "15", "num_target": "1"],
        ]
    ]
    return try! TreeEnsemble(json: json)
}

/// `n` rows × 15 features in [−1, 1), 3 % missing, labels from two features and noise; hourly.
func trainingRows(_ n: Int) -> LabeledRows {
    var random = SplitMix64(seed: 2)
    var matrix = FeatureMatrix(columns: MLFeatures.count)
    var labels: [UInt8] = []
    var row = [Double](repeating: 0, count: MLFeatures.count)
    for _ in 0..<n {
        for c in 0..<MLFeatures.count { row[c] = random.nextUnit() < 0.03 ? .nan : random.nextUnit() * 2 - 1 }
        matrix.append(row)
        let signal = (row[0].isNaN ? 0 : row[0]) + 0.5 * (row[3].isNaN ? 0 : row[3] * row[7])
        labels.append(signal + random.nextUnit() - 0.5 > 0 ? 1 : 0)
    }
    return LabeledRows(features: matrix, labels: labels, times: (0..<n).map { Int64($0) * 3_600_000 })
}

extension BenchmarkMetric {
    static let nanosecondsPerSignal = BenchmarkMetric.custom("ns per signal", polarity: .prefersSmaller, useScalingFactor: false)
    static let trainingSeconds = BenchmarkMetric.custom("training (ms)", polarity: .prefersSmaller, useScalingFactor: false)
}

func registerMLBenchmarks() {
    let model = completeTreesModel(trees: 300, depth: 6)
    let signals = 100_000
    let vectors: [Double] = {
        var random = SplitMix64(seed: 3)
        return (0..<(signals * MLFeatures.count)).map { _ in random.nextUnit() < 0.05 ? .nan : random.nextUnit() * 2 - 1 }
    }()
    Benchmark(
        "ML scoring, 300 trees of depth 6, 100,000 signals, 1 thread",
        configuration: configuration([.nanosecondsPerSignal: .count])
    ) { benchmark in
        var sum = 0.0
        let t = seconds {
            vectors.withUnsafeBufferPointer { all in
                for s in 0..<signals {
                    sum += model.probability(
                        UnsafeBufferPointer(rebasing: all[s * MLFeatures.count..<(s + 1) * MLFeatures.count]))
                }
            }
        }
        blackHole(sum)
        benchmark.measurement(.nanosecondsPerSignal, Int(t / Double(signals) * 1e9))
    }

    for (rows, threads) in [(10_000, cores), (100_000, cores), (100_000, 1)] {
        Benchmark(
            "ML training, \(rows) rows × 15 features, 200 trees of depth 6, \(threads == 1 ? "1 thread" : "every core")",
            configuration: .init(
                metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .trainingSeconds],
                units: [.trainingSeconds: .count], warmupIterations: 0, maxDuration: .seconds(60), maxIterations: 3)
        ) { benchmark in
            let data = trainingRows(rows)
            var p = GBTHyperparameters()
            p.trees = 200
            p.depth = 6
            p.earlyStoppingRounds = 0  // all 200 trees
            var model: TreeEnsemble?
            let t = try seconds { model = try GBTTrainer.train(data, hyperparameters: p, threads: threads) }
            blackHole(model)
            benchmark.measurement(.trainingSeconds, Int(t * 1000))
        }
    }
}
