/// Computes the ML feature vector (`MLFeatures` order) of an entry signal from the bars seen so
/// far: the one code path of backtests, training datasets and the live engine.
///
/// Feed every bar in time order with `update`; `vector(for:bar:)` then describes a signal decided
/// on the last bar fed, from that bar and earlier ones only (no look-ahead). Every update is O(1)
/// and allocation-free: RSI(14), ATR(14), SMA(50) of closes and SMA(20) of volumes are TradingCore's
/// incremental indicators; the closes and SMA(50) values of the last eleven bars sit in rings.
/// A value that cannot be computed (indicator warming up, no stop or target, a zero denominator)
/// is NaN, XGBoost's missing value. docs/ML_FEATURES.md gives every formula.
public struct FeatureTracker: Sendable {
    /// Bars back for `return_10` and `sma_50_slope_10`.
    static let lookback = 10

    private var rsi = RSI(period: 14)
    private var atr = ATR(period: 14)
    private var sma50 = SMA(period: 50)
    private var volume20 = SMA(period: 20)
    private var closes = LookbackRing(length: lookback + 1)
    private var smaValues = LookbackRing(length: lookback + 1)

    /// A tracker that has seen no bar.
    public init() {}

    /// Feeds the next bar (time order). The vector then uses bars up to and including this one.
    public mutating func update(_ bar: Bar) {
        rsi.update(bar.close)
        atr.update(high: bar.high, low: bar.low, close: bar.close)
        volume20.update(bar.volume)
        closes.push(bar.close)
        smaValues.push(sma50.update(bar.close) ?? .nan)
    }

    /// The feature vector of `signal`, decided on `bar` (the last bar fed), in `MLFeatures` order.
    public func vector(for signal: EntrySignal, bar: Bar) -> [Double] {
        var out = [Double](repeating: .nan, count: MLFeatures.count)
        out.withUnsafeMutableBufferPointer { fill($0, signal: signal, bar: bar) }
        return out
    }

    /// Writes the vector of `signal` on `bar` into `out` (`MLFeatures.count` values).
    public func fill(_ out: UnsafeMutableBufferPointer<Double>, signal: EntrySignal, bar: Bar) {
        precondition(out.count == MLFeatures.count, "a feature vector has \(MLFeatures.count) values")
        let atrValue = atr.value ?? .nan
        let sma = smaValues.back(0)
        out[0] = signal.score
        out[1] = rsi.value ?? .nan
        out[2] = Self.ratio(atrValue, bar.close)
        out[3] = Self.ratio(bar.close, sma) - 1
        out[4] = Self.ratio(sma, smaValues.back(Self.lookback)) - 1
        out[5] = Self.ratio(bar.volume, volume20.value ?? .nan)
        out[6] = Self.ratio(bar.high - bar.low, atrValue)
        out[7] = signal.stopLoss.map { Self.ratio(abs(signal.entryPrice - $0), atrValue) } ?? .nan
        out[8] = signal.rewardRisk ?? .nan
        let (hour, weekday) = Self.hourAndWeekday(bar.time)
        out[9] = Double(hour)
        out[10] = Double(weekday)
        out[11] = signal.side == .buy ? 1 : 0
        out[12] = Self.ratio(bar.close, closes.back(1)) - 1
        out[13] = Self.ratio(bar.close, closes.back(Self.lookback)) - 1
        if case .stop = signal.order { out[14] = 1 } else { out[14] = 0 }
    }

    /// a / b, NaN when either is NaN, b is zero or the quotient is not finite.
    static func ratio(_ a: Double, _ b: Double) -> Double {
        guard b != 0 else { return .nan }
        let q = a / b
        return q.isFinite ? q : .nan
    }

    /// UTC hour (0–23) and weekday (0 = Monday … 6 = Sunday) of a time in ms since the epoch.
    static func hourAndWeekday(_ time: Int64) -> (Int, Int) {
        let dayMs: Int64 = 86_400_000
        let day = time >= 0 ? time / dayMs : (time - dayMs + 1) / dayMs
        let inDay = time - day * dayMs
        let weekday = ((day + 3) % 7 + 7) % 7  // 1970-01-01 was a Thursday (3)
        return (Int(inDay / 3_600_000), Int(weekday))
    }
}

/// The last `length` values pushed, NaN before they exist.
struct LookbackRing: Sendable {
    private var values: [Double]
    private var next = 0

    init(length: Int) { values = [Double](repeating: .nan, count: length) }

    mutating func push(_ x: Double) {
        values[next] = x
        next += 1
        if next == values.count { next = 0 }
    }

    /// The value pushed `k` pushes before the last one (`k` = 0: the last), NaN when there is none.
    func back(_ k: Int) -> Double {
        precondition(k < values.count, "the ring keeps \(values.count) values")
        var index = next - 1 - k
        if index < 0 { index += values.count }
        return values[index]
    }
}
