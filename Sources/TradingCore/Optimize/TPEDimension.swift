/// One searched parameter as the Tree-structured Parzen Estimator sees it: a position in the
/// unit interval [0, 1] that maps to a value the grid allows.
///
/// - A whole-number range (`ParameterRange.isInteger`) is discrete: every whole number between
///   its bounds, or only its own values when they are evenly spaced (`10:50:10`).
/// - Evenly spaced non-integer values (three or more, e.g. `1.5:3:0.5`) are discrete too: the
///   grid's own values, so a stepped parameter never leaves its grid.
/// - Anything else (two bounds, or an uneven list) is continuous between the bounds, as random
///   search draws it.
///
/// A discrete dimension of `n` levels gives level `k` the bin `[k/n, (k+1)/n)` of the unit
/// interval.
struct TPEDimension: Sendable {
    /// The parameter name.
    let name: String
    /// Smallest value.
    let lower: Double
    /// Largest value.
    let upper: Double
    /// Number of levels; nil for a continuous dimension.
    let levels: Int?
    /// The levels' values when they come from the grid (evenly spaced values), else nil.
    private let gridValues: [Double]?

    init(_ range: ParameterRange) {
        name = range.name
        let sorted = range.values.sorted()
        lower = sorted.first ?? 0
        upper = sorted.last ?? 0
        let evenly = TPEDimension.evenlySpaced(sorted)
        if range.isInteger {
            let lo = lower.rounded(.up), hi = upper.rounded(.down)
            if evenly, sorted.count >= 3, let step = sorted.dropFirst().first.map({ $0 - sorted[0] }), step > 1,
                step == step.rounded()
            {
                gridValues = sorted
                levels = sorted.count
            } else {
                gridValues = nil
                levels = Int(max(0, min(hi - lo, 1e15))) + 1
            }
        } else if lower == upper {
            gridValues = [lower]
            levels = 1
        } else if evenly && sorted.count >= 3 {
            gridValues = sorted
            levels = sorted.count
        } else {
            gridValues = nil
            levels = nil
        }
    }

    /// Whether the sorted values are evenly spaced (within rounding).
    private static func evenlySpaced(_ sorted: [Double]) -> Bool {
        guard sorted.count >= 3 else { return false }
        let step = sorted[1] - sorted[0]
        let tolerance = 1e-9 * max(1, abs(step), abs(sorted.last!))
        for i in 1..<sorted.count where abs((sorted[i] - sorted[i - 1]) - step) > tolerance { return false }
        return true
    }

    /// The value of level `k` (discrete dimensions).
    func value(level k: Int) -> Double {
        if let gridValues { return gridValues[k] }
        return lower.rounded(.up) + Double(k)
    }

    /// The level of unit position `u` (discrete dimensions).
    func level(_ u: Double) -> Int {
        let n = levels ?? 1
        return min(n - 1, max(0, Int((u * Double(n)).rounded(.down))))
    }

    /// The value at unit position `u` (snapped to its level when discrete).
    func value(_ u: Double) -> Double {
        guard levels != nil else { return lower + min(max(u, 0), 1) * (upper - lower) }
        return value(level: level(u))
    }

    /// A uniform draw over the dimension (a level, or a point between the bounds).
    func uniform(_ rng: inout SplitMix64) -> Double {
        guard let n = levels else { return rng.nextUnit() }
        return (Double(rng.nextInt(in: 0, Int64(n - 1))) + 0.5) / Double(n)
    }
}
