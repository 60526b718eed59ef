/// The backtest loop for one concrete strategy type (specialised, allocation-free per bar).
///
/// Per bar i, in this order (SPEC §8):
/// 1. a pending strategy exit fills at bar i's open (reason SIGNAL);
/// 2. a pending entry fills: a market order at bar i's open; a stop entry at its level when the bar
///    reaches it, at the open when the bar gaps through it, else it is cancelled;
/// 3. the open position's stop and target are checked on this bar (for the entry bar, only what
///    follows the entry: the fill price stands in for the open); both touched → stop; gap → open;
/// 4. equity is marked at the close; the trailing stop is ratcheted with the bar;
/// 5. the strategy sees bar i; an entry passes the arbiter (with the scorer's ML score when the
///    run has one), sizing and the risk guard (as live) and becomes the pending order for bar i+1;
///    an exit becomes the pending exit.
/// After the last bar an open position closes at the last close (END_OF_DATA).
///
/// Every fill moves against the trader by `slippageRate × price`, and pays `commissionRate ×
/// notional` on its (slipped) price. Sizing uses the fill price and the cash balance.
struct BacktestEngine<S: Strategy> {
    private var strategy: S
    private let series: BarSeries
    private let config: BacktestConfig

    private struct OpenPosition {
        var side: Side
        var size: Double
        var entryPrice: Double
        var entryTime: Int64
        var entryCommission: Double
        var entrySlippage: Double
        var exit: TripleExit
        var signalType: SignalType
    }

    private enum Pending {
        case none
        case exit
        case entry(EntrySignal)
    }

    // Account state. `cash` is the realized balance: initial + Σ closed-trade pnl (net), so the
    // money invariant holds exactly; the open position's entry commission is only subtracted
    // when marking equity and settled inside the trade's pnl at the exit.
    private var cash: Double
    private var position: OpenPosition?
    private var pending = Pending.none
    private var trades: [Trade] = []
    private var tradeTypes: [SignalType] = []
    private var totalCommission = 0.0
    private var totalSlippage = 0.0
    private var signalsGenerated = 0
    private var scoredSignals = 0
    /// Fed every bar when the run has a scorer (nil otherwise: no cost for rules-only runs).
    private var features: FeatureTracker?
    private var rejected: [String: Int] = [:]
    // Risk tracking.
    private var peakEquity: Double
    private var dayStartEquity: Double
    private var nextDayStart: Int64 = .min
    private var killSwitch = false

    init(strategy: S, series: BarSeries, config: BacktestConfig) {
        self.strategy = strategy
        self.series = series
        self.config = config
        cash = config.initialBalance
        peakEquity = config.initialBalance
        dayStartEquity = config.initialBalance
        features = config.scorer == nil ? nil : FeatureTracker()
    }

    mutating func run(
        strategyName: String, parameters: [String: Double],
        progress: (BacktestProgress) -> Bool
    ) throws -> BacktestResult {
        let n = series.count
        guard n > 0 else { throw BacktestError.noData }
        var equityValues = [Double](repeating: 0, count: n)
        var barsInPosition = 0
        let interval = Swift.max(1, config.progressInterval)
        var nextReport = interval
        var lastEquity = config.initialBalance

        let times = series.time, opens = series.open, highs = series.high
        let lows = series.low, closes = series.close, volumes = series.volume
        for i in 0..<n {
            let bar = Bar(
                time: times[i], open: opens[i], high: highs[i], low: lows[i], close: closes[i],
                volume: volumes[i])
            // 1–2: orders decided on the previous close.
            var entryFillBase: Double?
            switch pending {
            case .none: break
            case .exit:
                if position != nil { closePosition(at: bar.open, reason: .signal, time: bar.time) }
            case .entry(let signal):
                if position == nil { entryFillBase = openPosition(signal, bar: bar) }
            }
            pending = .none
            // 3: stop and target.
            if let p = position {
                let reference = entryFillBase ?? bar.open
                if let fill = p.exit.check(open: reference, high: bar.high, low: bar.low) {
                    closePosition(at: fill.price, reason: fill.reason, time: bar.time)
                }
            }
            // 4: mark to market, ratchet the trailing stop.
            var equity = cash
            if var p = position {
                equity += markedValue(p, at: bar.close)
                p.exit.closeBar(high: bar.high, low: bar.low)
                position = p
                barsInPosition += 1
            }
            equityValues[i] = equity
            if config.risk != nil { trackRisk(equity: equity, previousEquity: lastEquity, time: bar.time) }
            lastEquity = equity
            // 5: the strategy decides on this close.
            features?.update(bar)
            let decision = strategy.onBar(bar, now: bar.time)
            if i + 1 < n {
                switch decision {
                case .hold: break
                case .exit: if position != nil { pending = .exit }
                case .enter(let signal): decide(signal, bar: bar, equity: equity)
                }
            } else if case .enter = decision {
                signalsGenerated += 1
            }
            if i + 1 == nextReport {
                nextReport += interval
                if !progress(BacktestProgress(processedBars: i + 1, totalBars: n)) {
                    throw BacktestError.cancelled(processedBars: i + 1)
                }
            }
        }
        if n > 0 {
            if position != nil {
                closePosition(at: series.close[n - 1], reason: .endOfData, time: series.time[n - 1])
            }
            equityValues[n - 1] = cash
        }
        return BacktestResult(
            strategyName: strategyName, parameters: parameters, config: config,
            initialBalance: config.initialBalance, finalBalance: cash, trades: trades,
            tradeSignalTypes: tradeTypes, equityTimes: series.time, equityValues: equityValues,
            totalCommission: totalCommission, totalSlippage: totalSlippage,
            barsInPosition: barsInPosition, barCount: n, signalsGenerated: signalsGenerated,
            scoredSignals: scoredSignals, rejectedSignals: rejected, startTime: n > 0 ? series.time[0] : 0,
            endTime: n > 0 ? series.time[n - 1] : 0)
    }

    /// Unrealized value of the open position at `price`, net of the entry commission already paid:
    /// `side × size × (price − entry) − entry commission`.
    private func markedValue(_ p: OpenPosition, at price: Double) -> Double {
        p.side.sign * p.size * (price - p.entryPrice) - p.entryCommission
    }

    private mutating func trackRisk(equity: Double, previousEquity: Double, time: Int64) {
        guard let risk = config.risk else { return }
        if time >= nextDayStart {
            // A new UTC day: its starting equity is the last mark before it.
            let day = time >= 0 ? time / 86_400_000 : (time - 86_399_999) / 86_400_000
            nextDayStart = (day + 1) * 86_400_000
            dayStartEquity = previousEquity
        }
        peakEquity = Swift.max(peakEquity, equity)
        if peakEquity > 0 && (peakEquity - equity) / peakEquity >= risk.maxDrawdown { killSwitch = true }
    }

    private mutating func reject(_ code: RiskReasonCode) { rejected[code.rawValue, default: 0] += 1 }

    /// The ML score of `signal` decided on `bar` (probability × 100), nil without a scorer.
    private mutating func mlScore(_ signal: EntrySignal, bar: Bar) -> Double? {
        guard let scorer = config.scorer, let features else { return nil }
        scoredSignals += 1
        return scorer.probability(features.vector(for: signal, bar: bar)) * 100
    }

    /// Arbiter (with the ML score when the run has a scorer), sizing estimate and risk guard for a
    /// new entry signal, as live.
    private mutating func decide(_ signal: EntrySignal, bar: Bar, equity: Double) {
        signalsGenerated += 1
        let ml = mlScore(signal, bar: bar)
        if let arbiter = config.arbiter ?? (ml == nil ? nil : .default),
            Arbiter.decide(ruleScore: signal.score, mlScore: ml, side: signal.side, config: arbiter).decision
                == .rejected
        {
            rejected[Backtester.arbiterRejected, default: 0] += 1
            return
        }
        guard position == nil else { reject(.marketAlreadyOpen); return }
        let sized = size(signal, price: signal.entryPrice, riskUnit: signal.riskUnit)
        guard sized.size > 0 else { reject(.zeroSize); return }
        if let risk = config.risk {
            // A drawdown breach latches for the rest of the run (no admin to reset it).
            if killSwitch { reject(.maxDrawdownKillSwitch); return }
            let state = RiskState(equity: equity, peakEquity: peakEquity, dayStartEquity: dayStartEquity)
            let verdict = RiskGuard.check(
                EntryProposal(
                    market: config.market, notional: sized.size * signal.entryPrice,
                    rewardRisk: signal.rewardRisk), state: state, config: risk)
            if !verdict.allowed {
                for reason in verdict.reasons { reject(reason.code) }
                return
            }
        }
        pending = .entry(signal)
    }

    private func size(_ signal: EntrySignal, price: Double, riskUnit: Double?) -> PositionSizing {
        config.positionSize(signal, price: price, riskUnit: riskUnit, cash: cash)
    }

    /// Fills a pending entry on `bar`; returns the fill price before slippage, nil when not filled.
    private mutating func openPosition(_ signal: EntrySignal, bar: Bar) -> Double? {
        guard let base = EntryFill.basePrice(signal, on: bar) else { return nil }
        let price = config.slipped(base, buying: signal.side == .buy)
        let riskUnit = signal.stopLoss.map { abs(price - $0) }
        let size = size(signal, price: price, riskUnit: riskUnit).size
        guard size > 0 else { reject(.zeroSize); return nil }
        let commission = size * price * config.commissionRate
        let slippage = size * abs(price - base)
        totalCommission += commission
        totalSlippage += slippage
        let trail = BacktestConfig.trailDistance(signal)
        position = OpenPosition(
            side: signal.side, size: size, entryPrice: price, entryTime: bar.time,
            entryCommission: commission, entrySlippage: slippage,
            exit: TripleExit(
                side: signal.side, entryPrice: price, stop: signal.stopLoss,
                target: signal.profitTarget, trailDistance: trail),
            signalType: signal.signalType)
        return base
    }

    /// Closes the open position at `base` (before slippage) and books the trade.
    private mutating func closePosition(at base: Double, reason: ExitReason, time: Int64) {
        guard let p = position else { return }
        let price = config.slipped(base, buying: p.side == .sell)
        let commission = p.size * price * config.commissionRate
        let slippage = p.size * abs(price - base)
        let pnl = p.side.sign * p.size * (price - p.entryPrice) - p.entryCommission - commission
        cash += pnl
        totalCommission += commission
        totalSlippage += slippage
        trades.append(
            Trade(
                entryTime: p.entryTime, exitTime: time, side: p.side, entryPrice: p.entryPrice,
                exitPrice: price, size: p.size, pnl: pnl, commission: p.entryCommission + commission,
                slippage: p.entrySlippage + slippage, exitReason: reason))
        tradeTypes.append(p.signalType)
        position = nil
    }
}
