import Foundation

/// Slices of one series by bar range, each copied once and then shared: an optimisation (and a
/// walk-forward above all) evaluates many parameter sets on the same few windows.
///
/// Safe to share between the optimiser's worker threads: the dictionary is only touched under
/// `lock`, and the `BarSeries` values it hands out are immutable copies.
public final class SliceCache: @unchecked Sendable {
    private let series: BarSeries
    private let lock = NSLock()
    private var slices: [Range<Int>: BarSeries] = [:]

    /// A cache over `series`; nothing is copied until a window is asked for.
    public init(_ series: BarSeries) { self.series = series }

    /// The bars of `range` (the whole series itself, uncopied, when `range` covers it).
    public subscript(range: Range<Int>) -> BarSeries {
        if range == 0..<series.count { return series }
        lock.lock()
        defer { lock.unlock() }
        if let s = slices[range] { return s }
        let s = series.slice(range)
        slices[range] = s
        return s
    }
}
