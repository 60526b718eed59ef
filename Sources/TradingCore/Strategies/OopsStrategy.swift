/// `oops` (SPEC §8, Larry Williams' "oops"), long and short.
///
/// Precise, look-ahead-free rule. On bar i's close (data up to bar i only):
/// - OOPS_BUY setup: bar i opened below bar i-1's low (`open_i < low_{i-1}`, by at least
///   `min_gap_atr` × ATR) and closed still below it (`close_i < low_{i-1}`). A **buy stop** entry
///   is placed at `low_{i-1}`, working during bar i+1 only: it fills at the level when bar i+1's
///   high reaches it, at bar i+1's open when that opens above it (gap), and is cancelled otherwise.
///   Stop loss = `low_i` (the gap bar's low, known at the decision), R = level − stop,
///   target = level + `reward_risk` × R, trailing stop `trail_atr` × ATR.
/// - OOPS_SELL: the mirror above bar i-1's high (sell stop at `high_{i-1}`, stop loss = `high_i`).
/// A setup bar that already closed back past the level is not traded (the move is over).
///
/// Rule score (0–100) = gap depth (0–30: gap / ATR capped at 1, × 30)
/// + trend alignment (0–20: 20 when the trend screen agrees with the side, 10 when neutral, 0 against)
/// + close position (0–25: how far the setup bar closed off its extreme, toward the level)
/// + volume (0–25: volume / SMA(volume, `volume_period`) capped at 2, × 12.5; 12.5 without volume data).
public struct OopsStrategy: Strategy {
    /// Registry name.
    public static let name = "oops"
    /// Parameters with defaults and ranges.
    public static let parameterSpecs: [ParameterSpec] = [
        ParameterSpec(name: "atr_period", defaultValue: 14, min: 1, max: 200, isInteger: true, summary: "ATR period (Wilder)"),
        ParameterSpec(
            name: "trend_period", defaultValue: 50, min: 2, max: 500, isInteger: true, summary: "trend SMA period (score only)"),
        ParameterSpec(
            name: "min_gap_atr", defaultValue: 0, min: 0, max: 10, summary: "smallest gap past the previous extreme, in ATRs"),
        ParameterSpec(name: "reward_risk", defaultValue: 2, min: 0.5, max: 20, summary: "target distance in R"),
        ParameterSpec(name: "trail_atr", defaultValue: 2, min: 0.1, max: 20, summary: "trailing stop distance, in ATRs"),
        ParameterSpec(
            name: "volume_period", defaultValue: 20, min: 1, max: 500, isInteger: true,
            summary: "volume average period for the score"),
        ParameterSpec(
            name: "allow_short", defaultValue: 1, min: 0, max: 1, isInteger: true, summary: "1: trade OOPS_SELL too; 0: long only"
        ),
    ]

    private var atr: ATR
    private var trend: TrendScreen
    private var volumeAverage: SMA
    private var previous: Bar?
    private let minGapATR: Double
    private let rewardRisk: Double
    private let trailATR: Double
    private let allowShort: Bool
    /// Bars needed before the first signal.
    public let warmupBars: Int

    /// Creates the strategy from validated parameters.
    public init(parameters p: StrategyParameters) throws {
        atr = ATR(period: p.int("atr_period"))
        trend = TrendScreen(period: p.int("trend_period"))
        volumeAverage = SMA(period: p.int("volume_period"))
        minGapATR = p["min_gap_atr"]; rewardRisk = p["reward_risk"]; trailATR = p["trail_atr"]
        allowShort = p["allow_short"] != 0
        warmupBars = p.int("atr_period")
    }

    /// Feeds the next closed bar (see the type documentation for the rule).
    public mutating func onBar(_ bar: Bar, now: Int64) -> StrategyDecision {
        let a = atr.update(high: bar.high, low: bar.low, close: bar.close)
        let direction = trend.update(close: bar.close)
        let averageVolume = volumeAverage.update(bar.volume)
        defer { previous = bar }
        guard let prior = previous, let a, a > 0 else { return .hold }
        var volumePoints = 12.5
        if let v = averageVolume, v > 0 { volumePoints = Swift.min(bar.volume / v, 2) * 12.5 }
        let range = bar.high - bar.low

        if bar.open < prior.low && bar.close < prior.low && prior.low - bar.open >= minGapATR * a {
            let level = prior.low, stop = bar.low, r = level - stop
            guard r > 0 else { return .hold }
            let score =
                gapPoints(prior.low - bar.open, a) + trendPoints(direction, .buy)
                + (range > 0 ? (bar.close - bar.low) / range * 25 : 12.5) + volumePoints
            return .enter(
                EntrySignal(
                    signalType: .oopsBuy, side: .buy, order: .stop(level: level), entryPrice: level,
                    stopLoss: stop, profitTarget: level + rewardRisk * r, atr: a,
                    trailingATRMultiple: trailATR, score: Swift.min(score, 100)))
        }
        if allowShort && bar.open > prior.high && bar.close > prior.high && bar.open - prior.high >= minGapATR * a {
            let level = prior.high, stop = bar.high, r = stop - level
            guard r > 0 else { return .hold }
            let score =
                gapPoints(bar.open - prior.high, a) + trendPoints(direction, .sell)
                + (range > 0 ? (bar.high - bar.close) / range * 25 : 12.5) + volumePoints
            return .enter(
                EntrySignal(
                    signalType: .oopsSell, side: .sell, order: .stop(level: level), entryPrice: level,
                    stopLoss: stop, profitTarget: level - rewardRisk * r, atr: a,
                    trailingATRMultiple: trailATR, score: Swift.min(score, 100)))
        }
        return .hold
    }

    private func gapPoints(_ gap: Double, _ a: Double) -> Double { Swift.min(Swift.max(gap / a, 0), 1) * 30 }

    private func trendPoints(_ trend: Trend, _ side: Side) -> Double {
        switch (trend, side) {
        case (.none, _): return 10
        case (.up, .buy), (.down, .sell): return 20
        default: return 0
        }
    }
}
