/// Bayesian search with a Tree-structured Parzen Estimator (TPE; Bergstra et al. 2011): a few
/// uniform startup trials, then each next parameter set is the one, among `candidatesPerStep`
/// drawn from the density of the good trials so far, that most favours the good density over
/// the bad one (the ratio l(x) / g(x), which orders candidates as expected improvement does).
/// "Good" is the best `γ` share of the trials (at most 25) by score; failed trials and trials
/// without a score are bad. Each parameter is modelled on its own (`TPEDimension`,
/// `ParzenEstimator`).
///
/// Proposals come in batches of `batchSize` made from the same history, so a batch can be
/// evaluated in parallel; every draw comes from one SplitMix64 seeded with `seed`, and the
/// history is kept in trial order, so the same seed and the same scores give the same trials
/// whatever the thread count. A set already tried is never proposed again; when the space has
/// no untried set left the search ends early.
///
/// Use: `while let batch = search.nextBatch() { search.record(scores of batch) }`.
public struct TPESearch: Sendable {
    /// Parameter sets proposed together (evaluated in parallel between two model updates).
    public static let batchSize = 4
    /// Candidates drawn from the good density per proposal.
    public static let candidatesPerStep = 24
    /// Share of the trials that counts as good.
    public static let gamma = 0.25

    private let dimensions: [TPEDimension]
    private let trials: Int
    private let startup: Int
    private let lowerIsBetter: Bool
    private var rng: SplitMix64
    /// Unit positions of every proposed set, in trial order.
    private var points: [[Double]] = []
    /// Scores of the recorded trials (nil: failed or undefined), in trial order.
    private var scores: [Double?] = []
    /// Values of every proposed set, to never propose one twice.
    private var seen = Set<[Double]>()
    private var pending = 0
    private var exhausted = false

    /// Why a search cannot be set up.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        /// One line for the user.
        public var description: String
    }

    /// A search over `ranges` with a budget of `trials` sets, ranking higher scores first (or
    /// lower, when `lowerIsBetter`).
    /// - Throws: `TPESearch.Error` for no ranges, an empty range, a repeated name, or `trials`
    ///   outside 1...`SearchSpace.maxCandidates`.
    public init(ranges: [ParameterRange], trials: Int, seed: UInt64, lowerIsBetter: Bool = false) throws {
        guard !ranges.isEmpty else { throw Error(description: "no parameter to search") }
        var names = Set<String>()
        for r in ranges {
            guard !r.values.isEmpty else { throw Error(description: "range '\(r.name)' has no values") }
            guard names.insert(r.name).inserted else {
                throw Error(description: "parameter '\(r.name)' is given more than once")
            }
        }
        guard trials > 0, trials <= SearchSpace.maxCandidates else {
            throw Error(description: "trials must be between 1 and \(SearchSpace.maxCandidates)")
        }
        dimensions = ranges.sorted { $0.name < $1.name }.map(TPEDimension.init)
        self.trials = trials
        startup = min(trials, max(4, min(10, trials / 4)))
        self.lowerIsBetter = lowerIsBetter
        rng = SplitMix64(seed: seed)
    }

    /// The next sets to evaluate (at most `batchSize`), nil once the budget is spent or no untried
    /// set is left. The scores of the previous batch must have been recorded.
    public mutating func nextBatch() -> [[String: Double]]? {
        precondition(pending == 0, "record the scores of the previous batch first")
        guard points.count < trials, !exhausted else { return nil }
        let count = min(TPESearch.batchSize, trials - points.count)
        var model = points.count >= startup ? makeModel() : nil
        var batch: [[String: Double]] = []
        for _ in 0..<count {
            guard let point = propose(&model) else {
                exhausted = true
                break
            }
            batch.append(parameters(point))
        }
        pending = batch.count
        return batch.isEmpty ? nil : batch
    }

    /// Records the scores of the last batch, in its order (nil for a failed or undefined one).
    public mutating func record(_ batchScores: [Double?]) {
        precondition(batchScores.count == pending, "one score per proposed set")
        scores += batchScores.map { s in s.flatMap { $0.isFinite ? $0 : nil } }
        pending = 0
    }

    // MARK: - proposals

    /// The densities of one batch: good and bad per dimension, and the ratios of discrete
    /// levels already weighed in this batch (candidates often land on the same levels).
    private struct Model {
        var good: [ParzenEstimator]
        var bad: [ParzenEstimator]
        var levelRatios: [[Int: Double]]
    }

    /// The good and bad densities of each dimension, from the recorded trials.
    private func makeModel() -> Model? {
        let order = scores.indices.filter { scores[$0] != nil }.sorted { a, b in
            let x = scores[a]!, y = scores[b]!
            if x != y { return lowerIsBetter ? x < y : x > y }
            return a < b
        }
        guard !order.isEmpty else { return nil }
        let goodCount = min(order.count, min(25, max(1, Int((TPESearch.gamma * Double(scores.count)).rounded(.up)))))
        let good = Set(order.prefix(goodCount))
        let bad = scores.indices.filter { !good.contains($0) }
        let goodSorted = good.sorted()
        return Model(
            good: dimensions.indices.map { d in ParzenEstimator(goodSorted.map { points[$0][d] }) },
            bad: dimensions.indices.map { d in ParzenEstimator(bad.map { points[$0][d] }) },
            levelRatios: Array(repeating: [:], count: dimensions.count))
    }

    /// The candidate with the best l/g ratio that was not tried yet (a uniform untried set when
    /// every candidate was), recorded as proposed; nil when none is left. Without a model (no
    /// trial scored yet) a uniform untried set.
    private mutating func propose(_ batchModel: inout Model?) -> [Double]? {
        guard var model = batchModel else { return uniformUntried() }
        defer { batchModel = model }
        var best: (score: Double, point: [Double], key: [Double])?
        for _ in 0..<TPESearch.candidatesPerStep {
            var point = [Double]()
            var key = [Double]()
            var score = 0.0
            for (d, dim) in dimensions.enumerated() {
                let u = model.good[d].sample(&rng)
                guard let n = dim.levels else {
                    point.append(u)
                    key.append(dim.value(u))
                    score += model.good[d].logDensity(u) - model.bad[d].logDensity(u)
                    continue
                }
                let level = dim.level(u)
                point.append((Double(level) + 0.5) / Double(n))
                key.append(dim.value(level: level))
                if let known = model.levelRatios[d][level] {
                    score += known
                } else {
                    let a = Double(level) / Double(n), b = Double(level + 1) / Double(n)
                    let ratio = model.good[d].logMass(from: a, to: b) - model.bad[d].logMass(from: a, to: b)
                    model.levelRatios[d][level] = ratio
                    score += ratio
                }
            }
            if seen.contains(key) { continue }
            if best == nil || score > best!.score { best = (score, point, key) }
        }
        guard let best else { return uniformUntried() }
        seen.insert(best.key)
        points.append(best.point)
        return best.point
    }

    /// A uniform set not tried yet (up to 100 draws), recorded as proposed; nil when none found.
    private mutating func uniformUntried() -> [Double]? {
        for _ in 0..<100 {
            let point = dimensions.map { $0.uniform(&rng) }
            let key = zip(dimensions, point).map { $0.value($1) }
            if seen.insert(key).inserted {
                points.append(point)
                return point
            }
        }
        return nil
    }

    private func parameters(_ point: [Double]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (dim, u) in zip(dimensions, point) { out[dim.name] = dim.value(u) }
        return out
    }
}
