/// Thins a long series for a chart without losing its extremes: the points are cut into
/// `buckets` runs of equal length and each run keeps its first, lowest, highest and last point,
/// in time order. Peaks and troughs survive, so the drawdown computed from the result is the
/// drawdown of the whole series. Pure.
public enum MinMaxSampler {
    /// Indices into `values` to keep (ascending): all of them when there are at most
    /// `4 × buckets`, else at most four per bucket.
    public static func indices(_ values: [Double], buckets: Int) -> [Int] {
        let n = values.count
        guard buckets > 0, n > 4 * buckets else { return Array(0..<n) }
        var out: [Int] = []
        out.reserveCapacity(4 * buckets)
        for b in 0..<buckets {
            let start = b * n / buckets
            let end = (b + 1) * n / buckets
            guard start < end else { continue }
            var lo = start
            var hi = start
            for i in start..<end {
                if values[i] < values[lo] { lo = i }
                if values[i] > values[hi] { hi = i }
            }
            for i in Set([start, lo, hi, end - 1]).sorted() { out.append(i) }
        }
        return out
    }
}
