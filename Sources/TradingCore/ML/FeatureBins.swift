/// Histogram bins of the training rows, computed once per training run: for each feature the
/// candidate split conditions (float32, ascending) and each row's bin.
///
/// A feature's cuts `c₀ < c₁ < …` split its values into bins: bin(x) = the number of cuts ≤
/// Float(x). The split "after bin j" sends x left exactly when `Float(x) < c_j`, which is the
/// comparison the evaluator (and xgboost) makes with split condition `c_j`, so a row lands in
/// the same leaf in training and in scoring. With at most `maxBins` distinct values every
/// distinct value is a bin; otherwise the cuts are quantiles of the values.
struct FeatureBins: Sendable {
    /// Cuts per feature (bins = cuts + 1).
    let cuts: [[Float]]
    /// Histogram slots per feature: the largest bin count plus one for missing values.
    let stride: Int
    /// The bin code of missing (NaN) values: `stride - 1`.
    var missing: UInt16 { UInt16(stride - 1) }

    /// Cuts from the rows `range` of `features`.
    init(_ features: FeatureMatrix, rows range: Range<Int>, maxBins: Int) {
        var cuts: [[Float]] = []
        var values: [Float] = []
        values.reserveCapacity(range.count)
        for f in 0..<features.columns {
            values.removeAll(keepingCapacity: true)
            for r in range {
                let x = features[r, f]
                if !x.isNaN { values.append(Float(x)) }
            }
            values.sort()
            cuts.append(Self.cuts(sorted: values, maxBins: maxBins))
        }
        self.cuts = cuts
        self.stride = (cuts.map(\.count).max() ?? 0) + 2
    }

    /// Cuts of one feature from its sorted non-missing values.
    static func cuts(sorted values: [Float], maxBins: Int) -> [Float] {
        guard let first = values.first else { return [] }
        var distinct: [Float] = [first]
        for v in values.dropFirst() where v != distinct[distinct.count - 1] {
            distinct.append(v)
            if distinct.count > maxBins { break }
        }
        if distinct.count <= maxBins { return Array(distinct.dropFirst()) }
        // Quantiles: the value at each k/maxBins of the sorted values, each kept once and never
        // the minimum (a cut there would leave its left side empty).
        var out: [Float] = []
        for k in 1..<maxBins {
            let v = values[k * values.count / maxBins]
            if v > first && v != out.last { out.append(v) }
        }
        return out
    }

    /// The bin of `x` for feature `f`.
    @inline(__always)
    func bin(_ x: Double, feature f: Int) -> UInt16 {
        if x.isNaN { return missing }
        let v = Float(x)
        let c = cuts[f]
        var low = 0
        var high = c.count
        while low < high {  // the number of cuts ≤ v
            let mid = (low + high) / 2
            if c[mid] <= v { low = mid + 1 } else { high = mid }
        }
        return UInt16(low)
    }

    /// Bin codes of the rows `range`, feature-major: feature f, row i (0-based in the range) is
    /// at `f * range.count + i`.
    func codes(_ features: FeatureMatrix, rows range: Range<Int>) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: features.columns * range.count)
        for f in 0..<features.columns {
            let base = f * range.count
            for (i, r) in range.enumerated() { out[base + i] = bin(features[r, f], feature: f) }
        }
        return out
    }
}
