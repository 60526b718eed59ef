/// The kind of entry a strategy emits. Raw values are the wire names of SPEC §8.
public enum SignalType: String, Sendable, Codable, CaseIterable {
    /// `pullback` entry (long).
    case pullbackBuy = "PULLBACK_BUY"
    /// `oops` long entry (buy stop at the previous low).
    case oopsBuy = "OOPS_BUY"
    /// `oops` short entry (sell stop at the previous high).
    case oopsSell = "OOPS_SELL"
    /// `sma_cross` entry (long).
    case smaCrossBuy = "SMA_CROSS_BUY"
}

/// How an entry is executed.
public enum EntryOrder: Sendable, Equatable {
    /// Decided on bar i's close, filled at bar i+1's open.
    case market
    /// A stop entry at `level`, working on the next bar only: a buy stop fills when the bar's high
    /// reaches the level (at the open when the bar opens above it), a sell stop mirrors that.
    /// Cancelled when the next bar does not reach it.
    case stop(level: Double)
}

/// Everything a strategy says about one proposed entry.
public struct EntrySignal: Sendable, Equatable {
    /// Which rule fired.
    public var signalType: SignalType
    /// Long (buy) or short (sell).
    public var side: Side
    /// Market or stop entry.
    public var order: EntryOrder
    /// The price the strategy expects to enter at: the decision bar's close for a market order,
    /// the stop level for a stop entry. Used for sizing estimates and reward:risk checks.
    public var entryPrice: Double
    /// Initial protective stop, if any.
    public var stopLoss: Double?
    /// Profit target, if any.
    public var profitTarget: Double?
    /// ATR at the decision bar, used by the trailing stop (nil: no trailing stop).
    public var atr: Double?
    /// Trailing distance as a multiple of `atr` (nil: no trailing stop).
    public var trailingATRMultiple: Double?
    /// Rule-engine score 0–100 (components documented on each strategy and in docs/STRATEGIES.md).
    public var score: Double

    /// Creates an entry signal.
    public init(
        signalType: SignalType, side: Side, order: EntryOrder, entryPrice: Double,
        stopLoss: Double? = nil, profitTarget: Double? = nil, atr: Double? = nil,
        trailingATRMultiple: Double? = nil, score: Double
    ) {
        self.signalType = signalType; self.side = side; self.order = order
        self.entryPrice = entryPrice; self.stopLoss = stopLoss; self.profitTarget = profitTarget
        self.atr = atr; self.trailingATRMultiple = trailingATRMultiple; self.score = score
    }

    /// Risk unit R = |entry − stop|; nil without a stop.
    public var riskUnit: Double? {
        guard let stopLoss else { return nil }
        return abs(entryPrice - stopLoss)
    }

    /// Reward:risk = |target − entry| / R; nil without stop or target or with R = 0.
    public var rewardRisk: Double? {
        guard let profitTarget, let r = riskUnit, r > 0 else { return nil }
        return abs(profitTarget - entryPrice) / r
    }
}

/// What a strategy wants after seeing one bar.
public enum StrategyDecision: Sendable, Equatable {
    /// Nothing to do.
    case hold
    /// Open a position (ignored by the backtester when one is already open).
    case enter(EntrySignal)
    /// Close the open position at the next bar's open (ignored when flat).
    case exit
}

/// A trading strategy: fed one closed bar at a time, it never sees future bars.
///
/// The same value runs in the backtester and live. `now` is the decision clock in ms since the
/// epoch (the backtester passes the bar's open time; live callers pass the wall clock).
public protocol Strategy: Sendable {
    /// Registry name, e.g. `"sma_cross"`.
    static var name: String { get }
    /// The parameters this strategy accepts, with defaults and valid ranges.
    static var parameterSpecs: [ParameterSpec] { get }
    /// Creates the strategy from a validated parameter set (see `ParameterSpec.resolve`).
    init(parameters: StrategyParameters) throws
    /// Whether its entries carry a stop (a risk unit R): fixed-risk sizing
    /// (`balance × risk_per_trade / R`) can only size entries that do. Default true.
    static var entriesHaveStops: Bool { get }
    /// Bars needed before the first signal can appear.
    var warmupBars: Int { get }
    /// Feeds the next closed bar and returns what to do at the next bar.
    mutating func onBar(_ bar: Bar, now: Int64) -> StrategyDecision
}

extension Strategy {
    /// Entries carry a stop unless the strategy says otherwise.
    public static var entriesHaveStops: Bool { true }

    /// Creates the strategy from raw user parameters, filling defaults and rejecting unknown names
    /// and out-of-range values.
    public init(rawParameters: [String: Double]) throws {
        try self.init(
            parameters: ParameterSpec.resolve(
                rawParameters, specs: Self.parameterSpecs,
                strategy: Self.name))
    }
}
