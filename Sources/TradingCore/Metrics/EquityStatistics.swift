/// Statistics of an equity curve marked at every bar close (SPEC §8), as pure functions.
///
/// Conventions shared by every function here:
/// - `times[i]` is the open time (ms since epoch) of bar `i` and `equity[i]` the equity marked at
///   its close; both arrays have the same length.
/// - The per-bar return is `r[i] = equity[i] / equity[i-1] - 1` for `i = 1 ..< n` (n − 1 returns).
/// - Bars per year `P = 365 × 86 400 000 / median(times[i] − times[i-1])`: 365-day years, bar
///   frequency inferred from the median spacing so a few gaps in the data do not change it.
/// - Undefined values (fewer than two returns, a zero denominator) are `nil`, never 0 or ∞.
public enum EquityStatistics {
    /// Milliseconds in a 365-day year.
    public static let millisecondsPerYear: Double = 365 * 86_400_000

    /// Per-bar simple returns `r[i] = equity[i] / equity[i-1] − 1` (empty with fewer than 2 points).
    /// A bar whose previous equity is not positive yields a return of 0 (the account is gone).
    public static func returns(_ equity: [Double]) -> [Double] {
        guard equity.count >= 2 else { return [] }
        var out = [Double]()
        out.reserveCapacity(equity.count - 1)
        for i in 1..<equity.count {
            let previous = equity[i - 1]
            out.append(previous > 0 ? equity[i] / previous - 1 : 0)
        }
        return out
    }

    /// Median spacing of consecutive times in milliseconds (the bar length); `nil` with fewer
    /// than two times. With an even number of gaps the mean of the two middle gaps is used.
    /// Linear time when the data has few distinct gaps (the usual case: one bar length plus
    /// weekend or outage gaps); sorts the gaps otherwise.
    public static func medianBarSpacing(_ times: [Int64]) -> Double? {
        guard times.count >= 2 else { return nil }
        let n = times.count - 1
        // Histogram of distinct gaps, given up after 32 distinct values.
        var values = [Int64](), counts = [Int]()
        var last = 0
        histogram: for i in 1..<times.count {
            let g = times[i] - times[i - 1]
            if last < values.count, values[last] == g { counts[last] += 1; continue }
            for k in values.indices where values[k] == g {
                counts[k] += 1
                last = k
                continue histogram
            }
            if values.count == 32 { return sortedMedian(times) }
            values.append(g)
            counts.append(1)
            last = values.count - 1
        }
        let order = values.indices.sorted { values[$0] < values[$1] }
        func gap(atRank r: Int) -> Int64 {  // the r-th smallest gap, 0-based
            var seen = 0
            for k in order {
                seen += counts[k]
                if r < seen { return values[k] }
            }
            return values[order[order.count - 1]]
        }
        if n % 2 == 1 { return Double(gap(atRank: n / 2)) }
        return (Double(gap(atRank: n / 2 - 1)) + Double(gap(atRank: n / 2))) / 2
    }

    private static func sortedMedian(_ times: [Int64]) -> Double {
        var gaps = [Int64]()
        gaps.reserveCapacity(times.count - 1)
        for i in 1..<times.count { gaps.append(times[i] - times[i - 1]) }
        gaps.sort()
        let mid = gaps.count / 2
        if gaps.count % 2 == 1 { return Double(gaps[mid]) }
        return (Double(gaps[mid - 1]) + Double(gaps[mid])) / 2
    }

    /// Bars per 365-day year: `millisecondsPerYear / medianBarSpacing`; `nil` when the spacing is
    /// unknown or not positive.
    public static func barsPerYear(_ times: [Int64]) -> Double? {
        guard let spacing = medianBarSpacing(times), spacing > 0 else { return nil }
        return millisecondsPerYear / spacing
    }

    /// Annualised Sharpe ratio (risk-free rate 0):
    /// `mean(r) / stdev(r) × √P`, with the sample standard deviation (divisor n − 1).
    /// `nil` with fewer than two returns or a zero standard deviation.
    public static func sharpe(returns r: [Double], barsPerYear p: Double) -> Double? {
        guard r.count >= 2 else { return nil }
        let m = mean(r)
        var ss = 0.0
        for x in r { ss += (x - m) * (x - m) }
        let sd = (ss / Double(r.count - 1)).squareRoot()
        guard sd > 0 else { return nil }
        return m / sd * p.squareRoot()
    }

    /// Annualised Sortino ratio (target 0):
    /// `mean(r) / DD × √P` with downside deviation `DD = √(Σ min(r, 0)² / n)` over all n returns.
    /// `nil` with fewer than two returns or no negative return.
    public static func sortino(returns r: [Double], barsPerYear p: Double) -> Double? {
        guard r.count >= 2 else { return nil }
        var downside = 0.0
        for x in r where x < 0 { downside += x * x }
        let dd = (downside / Double(r.count)).squareRoot()
        guard dd > 0 else { return nil }
        return mean(r) / dd * p.squareRoot()
    }

    /// Omega ratio at threshold 0: `Σ max(r, 0) / Σ max(−r, 0)` over the per-bar returns.
    /// A ratio of sums, so the same at any sampling frequency once the returns are per bar.
    /// `nil` with no negative return.
    public static func omega(returns r: [Double]) -> Double? {
        var gains = 0.0, losses = 0.0
        for x in r {
            if x > 0 { gains += x } else { losses -= x }
        }
        guard losses > 0 else { return nil }
        return gains / losses
    }

    /// Compound annual growth rate as a fraction:
    /// `(equity.last / equity.first) ^ (1 / years) − 1` with `years = (times.last − times.first)
    /// / millisecondsPerYear`, the calendar time the curve spans (so gaps such as weekends in
    /// stock data count as time, as they should). `nil` with fewer than two points, a zero
    /// span or a non-positive starting equity; −1 when the final equity is not positive.
    public static func annualizedReturn(times: [Int64], equity: [Double]) -> Double? {
        guard equity.count >= 2, times.count == equity.count, let first = equity.first, first > 0
        else { return nil }
        let years = Double(times[times.count - 1] - times[0]) / millisecondsPerYear
        guard years > 0 else { return nil }
        let last = equity[equity.count - 1]
        guard last > 0 else { return -1 }
        return pow(last / first, 1 / years) - 1
    }

    /// Maximum drawdown of an equity curve and how long it lasted.
    public struct Drawdown: Sendable, Equatable {
        /// Largest peak-to-trough fall, in percent of the peak: `max over i of
        /// (peak(i) − equity[i]) / peak(i) × 100` where `peak(i)` is the running maximum.
        public var maxPercent: Double
        /// Longest underwater stretch in bars: `recovery − peak`, where `peak` is the index of a
        /// running peak followed by at least one bar below it and `recovery` the first later bar
        /// back at or above that peak, or the last bar when equity never recovers.
        public var longestBars: Int
        /// The same stretch in milliseconds: `times[recovery] − times[peak]`.
        public var longestMilliseconds: Int64
    }

    /// Maximum drawdown (percent of the running peak) and the longest underwater stretch.
    /// Zero for an empty, flat or only-rising curve.
    public static func drawdown(times: [Int64], equity: [Double]) -> Drawdown {
        var result = Drawdown(maxPercent: 0, longestBars: 0, longestMilliseconds: 0)
        guard let first = equity.first else { return result }
        var peak = first
        var peakIndex = 0
        var underwater = false
        for i in equity.indices {
            let e = equity[i]
            if e >= peak {
                if underwater { noteStretch(&result, from: peakIndex, to: i, times: times) }
                underwater = false
                peak = e
                peakIndex = i
            } else {
                underwater = true
                if peak > 0 {
                    let dd = (peak - e) / peak * 100
                    if dd > result.maxPercent { result.maxPercent = dd }
                }
            }
        }
        // Still underwater at the end: the stretch runs to the last bar.
        if underwater {
            noteStretch(&result, from: peakIndex, to: equity.count - 1, times: times)
        }
        return result
    }

    private static func noteStretch(
        _ result: inout Drawdown, from start: Int, to end: Int,
        times: [Int64]
    ) {
        let bars = end - start
        guard bars > result.longestBars else { return }
        result.longestBars = bars
        if end < times.count, start < times.count {
            result.longestMilliseconds = times[end] - times[start]
        }
    }

    /// Sharpe, Sortino and Omega of the per-bar returns of `equity`, computed in two passes
    /// without building the returns array (same formulas as the functions above).
    public static func returnRatios(equity: [Double], barsPerYear p: Double)
        -> (sharpe: Double?, sortino: Double?, omega: Double?)
    {
        let n = equity.count - 1
        guard n >= 1 else { return (nil, nil, nil) }
        @inline(__always) func r(_ i: Int) -> Double {
            let previous = equity[i - 1]
            return previous > 0 ? equity[i] / previous - 1 : 0
        }
        var sum = 0.0, gains = 0.0, losses = 0.0, downside = 0.0
        for i in 1...n {
            let x = r(i)
            sum += x
            if x > 0 { gains += x } else { losses -= x; downside += x * x }
        }
        let m = sum / Double(n)
        let omega: Double? = losses > 0 ? gains / losses : nil
        guard n >= 2 else { return (nil, nil, omega) }
        var ss = 0.0
        for i in 1...n { let d = r(i) - m; ss += d * d }
        let sd = (ss / Double(n - 1)).squareRoot()
        let dd = (downside / Double(n)).squareRoot()
        return (sd > 0 ? m / sd * p.squareRoot() : nil, dd > 0 ? m / dd * p.squareRoot() : nil, omega)
    }

    static func mean(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        var s = 0.0
        for x in xs { s += x }
        return s / Double(xs.count)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
