import JSONCodec

/// The settings of Bedrock's gradient-boosted-trees trainer (`GBTTrainer`); JSON names in
/// parentheses, xgboost's equivalent after the dash.
public struct GBTHyperparameters: Sendable, Equatable {
    /// Boosting rounds, one tree each (`trees`, 200) — xgboost's num_boost_round.
    public var trees = 200
    /// Maximum tree depth (`depth`, 6) — max_depth.
    public var depth = 6
    /// Shrinkage of each tree's leaf values (`learning_rate`, 0.1) — eta.
    public var learningRate = 0.1
    /// Smallest sum of hessians a child may have (`min_child_weight`, 1).
    public var minChildWeight = 1.0
    /// L2 regularisation of leaf weights (`lambda`, 1).
    public var lambda = 1.0
    /// Most histogram bins per feature (`max_bins`, 256) — max_bin.
    public var maxBins = 256
    /// Stop after this many rounds without a better validation log loss, keeping the best
    /// round's trees (`early_stopping_rounds`, 20; 0 = off: every row trains).
    public var earlyStoppingRounds = 20
    /// The time-ordered tail of the rows held out for early stopping (`validation_fraction`, 0.2).
    public var validationFraction = 0.2
    /// Recorded with the model (`seed`, 42). Training samples nothing, so the result is the
    /// same for every seed; the seed is kept so that a future sampling option stays reproducible.
    public var seed = 42

    /// The defaults.
    public init() {}

    /// The defaults overridden by the members of `json` (numbers; integers where the name says
    /// a count).
    /// - Throws: `ModelFormatError` naming an unknown key or a value out of range.
    public init(json: [String: JSONValue]) throws(ModelFormatError) {
        for (key, value) in json.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "trees": trees = try Self.int(key, value, 1...5000)
            case "depth": depth = try Self.int(key, value, 1...10)
            case "learning_rate": learningRate = try Self.double(key, value, 0, 1, openLow: true)
            case "min_child_weight": minChildWeight = try Self.double(key, value, 0, 1e6)
            case "lambda": lambda = try Self.double(key, value, 0, 1e6)
            case "max_bins": maxBins = try Self.int(key, value, 2...1024)
            case "early_stopping_rounds": earlyStoppingRounds = try Self.int(key, value, 0...1000)
            case "validation_fraction": validationFraction = try Self.double(key, value, 0, 0.5)
            case "seed": seed = try Self.int(key, value, 0...Int(Int32.max))
            default:
                throw ModelFormatError(
                    "hyperparameters: unknown key \"\(key)\" (trees, depth, learning_rate, min_child_weight, lambda, "
                        + "max_bins, early_stopping_rounds, validation_fraction, seed)")
            }
        }
        let megabytes = (histogramBytes + (1 << 20) - 1) >> 20
        guard histogramBytes <= Self.maxHistogramBytes else {
            throw ModelFormatError(
                "hyperparameters: depth \(depth) with max_bins \(maxBins) needs \(megabytes) MB of histograms, "
                    + "over the trainer's \(Self.maxHistogramBytes >> 20) MB: lower depth or max_bins")
        }
    }

    /// Most memory the trainer's histograms may take (`histogramBytes`), so one training job's
    /// size is bounded whatever a caller asks for.
    public static let maxHistogramBytes = 64 << 20

    /// The trainer's histogram memory for these settings: two levels of 2^(depth−1) nodes, each
    /// holding gradient and hessian sums in max_bins + 1 bins for every feature (8 bytes each).
    public var histogramBytes: Int { 2 * 2 * (1 << (depth - 1)) * MLFeatures.count * (maxBins + 1) * 8 }

    /// Every setting under its JSON name.
    public var jsonValue: JSONValue {
        .object([
            ("trees", .int(Int64(trees))), ("depth", .int(Int64(depth))), ("learning_rate", .double(learningRate)),
            ("min_child_weight", .plain(minChildWeight)), ("lambda", .plain(lambda)), ("max_bins", .int(Int64(maxBins))),
            ("early_stopping_rounds", .int(Int64(earlyStoppingRounds))), ("validation_fraction", .double(validationFraction)),
            ("seed", .int(Int64(seed))),
        ])
    }

    private static func int(_ key: String, _ value: JSONValue, _ range: ClosedRange<Int>) throws(ModelFormatError) -> Int {
        guard let v = value.intValue, v >= Int64(range.lowerBound), v <= Int64(range.upperBound) else {
            throw ModelFormatError("hyperparameters: \(key) must be an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return Int(v)
    }

    /// A finite number in [low, high], or in (low, high] when `openLow`.
    private static func double(_ key: String, _ value: JSONValue, _ low: Double, _ high: Double, openLow: Bool = false)
        throws(ModelFormatError) -> Double
    {
        guard let v = value.doubleValue, v.isFinite, openLow ? v > low : v >= low, v <= high else {
            throw ModelFormatError("hyperparameters: \(key) must be a number in \(openLow ? "(" : "[")\(low), \(high)]")
        }
        return v
    }
}

/// Where a training run is: `stage` ("fold 2 of 5", "final model") and the run's overall
/// `fraction` done (0–1).
public struct TrainingProgress: Sendable, Equatable {
    /// What is being trained now.
    public var stage: String
    /// Share of the whole run done, 0–1.
    public var fraction: Double
    /// A progress report.
    public init(stage: String, fraction: Double) { self.stage = stage; self.fraction = fraction }
}

/// Why training produced no model.
public enum TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The progress closure returned false.
    case cancelled
    /// The rows cannot train a model (too few, one class only, wrong columns); the reason.
    case invalid(String)

    /// One line for the user.
    public var description: String {
        switch self {
        case .cancelled: return "training cancelled"
        case .invalid(let reason): return reason
        }
    }
}
