/// How the optimiser picks parameter sets from the ranges.
public enum SearchMethod: Sendable, Equatable {
    /// Every combination of the listed values (the cartesian product).
    case grid
    /// `trials` distinct sets drawn uniformly inside each range's bounds (whole numbers for whole
    /// ranges) by a SplitMix64 generator seeded with `seed`: the same seed gives the same sets.
    case random(trials: Int, seed: UInt64)
    /// `trials` sets proposed one batch at a time by a Tree-structured Parzen Estimator
    /// (`TPESearch`) seeded with `seed`: not known up front (`Optimizer.bayesian`).
    case bayesian(trials: Int, seed: UInt64)
}

/// Building the list of parameter sets to evaluate.
public enum SearchSpace {
    /// Upper limit on the number of parameter sets one search may produce.
    public static let maxCandidates = 1_000_000

    /// Why no candidate list could be built.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        /// One line for the user.
        public var description: String
    }

    /// The parameter sets to evaluate, in a fixed order (the tie-break order of the ranking).
    ///
    /// Grid: the cartesian product, the first range varying slowest. Random: up to `trials` sets,
    /// the ranges drawn in name order for each trial; a set already drawn is drawn again (at
    /// most `20 × trials` draws in all, so a tiny integer space yields fewer sets than asked).
    /// `fixed` values (e.g. `--param`) are added to every set.
    public static func candidates(
        _ ranges: [ParameterRange], method: SearchMethod,
        fixed: [String: Double] = [:]
    ) throws -> [[String: Double]] {
        var names = Set<String>()
        for r in ranges {
            guard !r.values.isEmpty else { throw Error(description: "range '\(r.name)' has no values") }
            guard names.insert(r.name).inserted else {
                throw Error(description: "parameter '\(r.name)' is given more than once")
            }
        }
        switch method {
        case .grid:
            var total = 1
            for r in ranges {
                let (p, overflow) = total.multipliedReportingOverflow(by: r.values.count)
                guard !overflow, p <= maxCandidates else {
                    throw Error(description: "the grid has more than \(maxCandidates) combinations")
                }
                total = p
            }
            var out = [[String: Double]]()
            out.reserveCapacity(total)
            for k in 0..<total {
                var set = fixed
                var rest = k
                for r in ranges.reversed() {
                    set[r.name] = r.values[rest % r.values.count]
                    rest /= r.values.count
                }
                out.append(set)
            }
            return out
        case let .random(trials, seed):
            guard trials > 0, trials <= maxCandidates else {
                throw Error(description: "trials must be between 1 and \(maxCandidates)")
            }
            let ordered = ranges.sorted { $0.name < $1.name }
            var rng = SplitMix64(seed: seed)
            var seen = Set<[Double]>()
            var out = [[String: Double]]()
            var draws = 0
            while out.count < trials && draws < 20 * trials {
                draws += 1
                var key = [Double]()
                var set = fixed
                for r in ordered {
                    let v = draw(r, &rng)
                    key.append(v)
                    set[r.name] = v
                }
                if seen.insert(key).inserted { out.append(set) }
            }
            return out
        case .bayesian:
            throw Error(description: "a bayesian search proposes its parameter sets as it goes (Optimizer.bayesian)")
        }
    }

    static func draw(_ r: ParameterRange, _ rng: inout SplitMix64) -> Double {
        let lo = r.lowerBound, hi = r.upperBound
        if r.isInteger {
            return Double(rng.nextInt(in: Int64(lo.rounded(.up)), Int64(hi.rounded(.down))))
        }
        return lo + rng.nextUnit() * (hi - lo)
    }
}
