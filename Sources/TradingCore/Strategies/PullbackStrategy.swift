/// `pullback` (SPEC §8), long only: buy the dip to the EMA in an uptrend.
///
/// Rule, evaluated on bar i's close with data up to bar i only:
/// - trend screen says up (close > SMA(`trend_period`) and that SMA rising);
/// - the bar's low touches the EMA zone: `low ≤ EMA(ema_period) + zone_atr × ATR`;
/// - the bar closes back above the EMA: `close > EMA`.
/// Then PULLBACK_BUY as a market order (filled at bar i+1's open) with
/// stop = lowest low of the last `swing_lookback` bars − `atr_pad` × ATR,
/// R = close − stop, target = close + `reward_risk` × R, trailing stop `trail_atr` × ATR.
///
/// Rule score (0–100) = trend strength (0–30: (close − SMA)/ATR capped at 3, × 10)
/// + touch depth (0–25: (zone top − low)/ATR capped at 1, × 25)
/// + close position in the bar (0–25: (close − low)/(high − low) × 25; 12.5 for a flat bar)
/// + volume (0–20: volume / SMA(volume, `volume_period`) capped at 2, × 10; 10 without volume data).
public struct PullbackStrategy: Strategy {
    /// Registry name.
    public static let name = "pullback"
    /// Parameters with defaults and ranges.
    public static let parameterSpecs: [ParameterSpec] = [
        ParameterSpec(name: "trend_period", defaultValue: 50, min: 2, max: 500, isInteger: true, summary: "trend SMA period"),
        ParameterSpec(name: "ema_period", defaultValue: 20, min: 2, max: 500, isInteger: true, summary: "pullback EMA period"),
        ParameterSpec(name: "atr_period", defaultValue: 14, min: 1, max: 200, isInteger: true, summary: "ATR period (Wilder)"),
        ParameterSpec(
            name: "swing_lookback", defaultValue: 10, min: 1, max: 200, isInteger: true,
            summary: "bars searched for the swing low"),
        ParameterSpec(name: "atr_pad", defaultValue: 0.5, min: 0, max: 5, summary: "stop padding below the swing low, in ATRs"),
        ParameterSpec(name: "zone_atr", defaultValue: 0.25, min: 0, max: 3, summary: "EMA zone half-width, in ATRs"),
        ParameterSpec(name: "reward_risk", defaultValue: 2, min: 0.5, max: 20, summary: "target distance in R"),
        ParameterSpec(name: "trail_atr", defaultValue: 2, min: 0.1, max: 20, summary: "trailing stop distance, in ATRs"),
        ParameterSpec(
            name: "volume_period", defaultValue: 20, min: 1, max: 500, isInteger: true,
            summary: "volume average period for the score"),
    ]

    private var trend: TrendScreen
    private var ema: EMA
    private var atr: ATR
    private var swingLow: RollingExtreme
    private var volumeAverage: SMA
    private let atrPad: Double
    private let zoneATR: Double
    private let rewardRisk: Double
    private let trailATR: Double
    /// Bars needed before the first signal.
    public let warmupBars: Int

    /// Creates the strategy from validated parameters.
    public init(parameters p: StrategyParameters) throws {
        trend = TrendScreen(period: p.int("trend_period"))
        ema = EMA(period: p.int("ema_period"))
        atr = ATR(period: p.int("atr_period"))
        swingLow = RollingExtreme(period: p.int("swing_lookback"), kind: .lowest)
        volumeAverage = SMA(period: p.int("volume_period"))
        atrPad = p["atr_pad"]; zoneATR = p["zone_atr"]; rewardRisk = p["reward_risk"]; trailATR = p["trail_atr"]
        warmupBars = Swift.max(p.int("trend_period") + 1, p.int("ema_period"), p.int("atr_period"))
    }

    /// Feeds the next closed bar (see the type documentation for the rule).
    public mutating func onBar(_ bar: Bar, now: Int64) -> StrategyDecision {
        let direction = trend.update(close: bar.close)
        let e = ema.update(bar.close)
        let a = atr.update(high: bar.high, low: bar.low, close: bar.close)
        swingLow.update(bar.low)
        let averageVolume = volumeAverage.update(bar.volume)
        guard direction == .up, let e, let a, a > 0, let sma = trend.average,
            let lowest = swingLow.partialValue
        else { return .hold }
        let zoneTop = e + zoneATR * a
        guard bar.low <= zoneTop, bar.close > e else { return .hold }
        let stop = lowest - atrPad * a
        let r = bar.close - stop
        guard r > 0 else { return .hold }
        let trendPoints = Swift.min(Swift.max((bar.close - sma) / a, 0), 3) * 10
        let touchPoints = Swift.min(Swift.max((zoneTop - bar.low) / a, 0), 1) * 25
        let range = bar.high - bar.low
        let closePoints = range > 0 ? (bar.close - bar.low) / range * 25 : 12.5
        var volumePoints = 10.0
        if let v = averageVolume, v > 0 { volumePoints = Swift.min(bar.volume / v, 2) * 10 }
        let score = Swift.min(Swift.max(trendPoints + touchPoints + closePoints + volumePoints, 0), 100)
        return .enter(
            EntrySignal(
                signalType: .pullbackBuy, side: .buy, order: .market, entryPrice: bar.close,
                stopLoss: stop, profitTarget: bar.close + rewardRisk * r, atr: a,
                trailingATRMultiple: trailATR, score: score))
    }
}
