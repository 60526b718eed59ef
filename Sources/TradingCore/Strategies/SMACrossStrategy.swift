/// `sma_cross`, the reference strategy (SPEC §8), long only.
///
/// Enter when `fast[i-1] < slow[i-1] && fast[i] > slow[i]` (strict on both sides), exit when
/// `fast[i-1] > slow[i-1] && fast[i] < slow[i]`; both as market orders decided on bar i's close and
/// filled at bar i+1's open. SMA(n) is the mean of the last n closes, undefined before n bars, so
/// the first possible cross is at bar index `slow` (0-based). No stop, no target.
/// Rule score: a constant 100 (the reference strategy takes every cross at full weight, so its
/// suggested position weight is 1.0 and the size is capped by the available cash).
public struct SMACrossStrategy: Strategy {
    /// Registry name.
    public static let name = "sma_cross"
    /// Its entries carry no stop: it exits on the opposite cross.
    public static let entriesHaveStops = false
    /// Parameters with defaults and ranges.
    public static let parameterSpecs: [ParameterSpec] = [
        ParameterSpec(name: "fast", defaultValue: 10, min: 1, max: 500, isInteger: true, summary: "fast SMA period"),
        ParameterSpec(name: "slow", defaultValue: 20, min: 2, max: 1000, isInteger: true, summary: "slow SMA period (> fast)"),
    ]

    private var fast: SMA
    private var slow: SMA
    private var previousFast: Double?
    private var previousSlow: Double?

    /// Bars needed before the first signal.
    public var warmupBars: Int { slow.period + 1 }

    /// Creates the strategy; `fast` must be smaller than `slow`.
    public init(parameters: StrategyParameters) throws {
        let f = parameters.int("fast"), s = parameters.int("slow")
        guard f < s else {
            throw StrategyError.invalidCombination(strategy: Self.name, message: "fast (\(f)) must be smaller than slow (\(s))")
        }
        fast = SMA(period: f)
        slow = SMA(period: s)
    }

    /// Convenience: `SMACrossStrategy(fast: 10, slow: 20)`.
    public init(fast: Int = 10, slow: Int = 20) throws {
        try self.init(rawParameters: ["fast": Double(fast), "slow": Double(slow)])
    }

    /// Feeds the next closed bar (see the type documentation for the rule).
    public mutating func onBar(_ bar: Bar, now: Int64) -> StrategyDecision {
        let f = fast.update(bar.close)
        let s = slow.update(bar.close)
        defer { previousFast = f; previousSlow = s }
        guard let f, let s, let pf = previousFast, let ps = previousSlow else { return .hold }
        if pf < ps && f > s {
            return .enter(
                EntrySignal(
                    signalType: .smaCrossBuy, side: .buy, order: .market,
                    entryPrice: bar.close, score: 100))
        }
        if pf > ps && f < s { return .exit }
        return .hold
    }
}
