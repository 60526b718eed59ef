/// A time-ordered run of OHLCV bars stored as contiguous columns, one array per field.
///
/// The columns always have the same length. Times are bar open times in milliseconds since the
/// Unix epoch (UTC), strictly increasing when the series comes from `MarketData`.
public struct BarSeries: Sendable, Equatable {
    /// Bar open times, ms since epoch.
    public private(set) var time: [Int64]
    /// Open prices.
    public private(set) var open: [Double]
    /// High prices.
    public private(set) var high: [Double]
    /// Low prices.
    public private(set) var low: [Double]
    /// Close prices.
    public private(set) var close: [Double]
    /// Volumes (base asset).
    public private(set) var volume: [Double]

    /// An empty series.
    public init() {
        time = []; open = []; high = []; low = []; close = []; volume = []
    }

    /// A series from column arrays; all must have the same length.
    public init(time: [Int64], open: [Double], high: [Double], low: [Double], close: [Double], volume: [Double]) {
        precondition(
            open.count == time.count && high.count == time.count && low.count == time.count
                && close.count == time.count && volume.count == time.count,
            "BarSeries columns must have equal lengths")
        self.time = time; self.open = open; self.high = high
        self.low = low; self.close = close; self.volume = volume
    }

    /// A series from bar values.
    public init<S: Sequence>(bars: S) where S.Element == Bar {
        self.init()
        for bar in bars { append(bar) }
    }

    /// Number of bars.
    public var count: Int { time.count }
    /// True when there are no bars.
    public var isEmpty: Bool { time.isEmpty }

    /// The bar at `index`.
    public subscript(index: Int) -> Bar {
        Bar(
            time: time[index], open: open[index], high: high[index], low: low[index],
            close: close[index], volume: volume[index])
    }

    /// All bars as values (allocates one array).
    public var bars: [Bar] { (0..<count).map { self[$0] } }

    /// Appends one bar at the end (no ordering check).
    public mutating func append(_ bar: Bar) {
        time.append(bar.time); open.append(bar.open); high.append(bar.high)
        low.append(bar.low); close.append(bar.close); volume.append(bar.volume)
    }

    /// Reserves room for `capacity` bars in every column.
    public mutating func reserveCapacity(_ capacity: Int) {
        time.reserveCapacity(capacity); open.reserveCapacity(capacity); high.reserveCapacity(capacity)
        low.reserveCapacity(capacity); close.reserveCapacity(capacity); volume.reserveCapacity(capacity)
    }

    /// The bars whose indices fall in `range`, as a new series (used by walk-forward splits).
    public func slice(_ range: Range<Int>) -> BarSeries {
        BarSeries(
            time: Array(time[range]), open: Array(open[range]), high: Array(high[range]),
            low: Array(low[range]), close: Array(close[range]), volume: Array(volume[range]))
    }

    /// The first `n` bars (all of them when `n >= count`).
    public func prefix(_ n: Int) -> BarSeries { slice(0..<Swift.min(Swift.max(n, 0), count)) }

    /// Bars whose open time lies in `[start, end]` (ms, inclusive); `nil` bounds are open.
    public func between(start: Int64?, end: Int64?) -> BarSeries {
        var lower = 0
        var upper = count
        if let start { lower = time.firstIndex(where: { $0 >= start }) ?? count }
        if let end { upper = (time.lastIndex(where: { $0 <= end }) ?? -1) + 1 }
        return upper > lower ? slice(lower..<upper) : BarSeries()
    }
}
