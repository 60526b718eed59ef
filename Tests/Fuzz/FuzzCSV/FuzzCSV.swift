import TradingCore

/// The input as a CSV file for `MarketData.load(bytes:name:)`. A load either
/// throws or returns bars that keep the loader's promises (SPEC §9): at least one bar, times
/// strictly increasing, finite prices above zero with low ≤ open, close ≤ high, volume ≥ 0.
func fuzzCSV(_ input: UnsafeRawBufferPointer) {
    let bytes = Array(input)
    let series: BarSeries
    do {
        series = try MarketData.load(bytes: bytes, name: "fuzz.csv")
    } catch {
        guard !"\(error)".isEmpty else { fatalError("an error without a message") }
        return
    }
    guard !series.isEmpty else { fatalError("a load returned no bars") }
    let n = series.count
    guard series.time.count == n, series.open.count == n, series.high.count == n, series.low.count == n,
        series.close.count == n, series.volume.count == n
    else { fatalError("columns of different lengths") }
    for i in 0..<n {
        let o = series.open[i], h = series.high[i], l = series.low[i], c = series.close[i], v = series.volume[i]
        guard o.isFinite, h.isFinite, l.isFinite, c.isFinite, v.isFinite else { fatalError("non-finite value in bar \(i)") }
        guard l > 0, l <= min(o, c), h >= max(o, c), v >= 0 else { fatalError("inconsistent bar \(i) accepted") }
        if i > 0 && series.time[i] <= series.time[i - 1] { fatalError("times not strictly increasing at bar \(i)") }
    }
}
