/// One entry signal of a strategy run with its features and the outcome of its own trade.
public struct LabeledSignal: Sendable, Equatable {
    /// Open time of the bar the signal was decided on (ms since the epoch).
    public var time: Int64
    /// Which rule fired.
    public var signalType: SignalType
    /// Long or short.
    public var side: Side
    /// 1 when the signal's trade closed with net pnl > 0, else 0.
    public var label: UInt8
    /// The `FeatureTracker` vector at the signal's bar, `MLFeatures` order (NaN = missing).
    public var features: [Double]

    /// A labelled signal.
    public init(time: Int64, signalType: SignalType, side: Side, label: UInt8, features: [Double]) {
        self.time = time; self.signalType = signalType; self.side = side; self.label = label; self.features = features
    }

    /// Two rows are equal when every field is, NaN features counting as equal to NaN.
    public static func == (a: LabeledSignal, b: LabeledSignal) -> Bool {
        a.time == b.time && a.signalType == b.signalType && a.side == b.side && a.label == b.label
            && a.features.count == b.features.count
            && zip(a.features, b.features).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }
}

/// Training data: the entry signals of a strategy over a bar series, each labelled by its own trade.
///
/// Every entry signal is taken on its own, whether or not an earlier signal's trade is still open
/// and whatever the arbiter or the risk guard would say: a label answers "does this signal's trade
/// win?", not "did the backtester take it?". The trade follows the backtester's rules exactly: the
/// entry fills as `Backtester` fills it (market at the next open; a stop entry at its level on the
/// next bar, at the open on a gap, else never — such signals are left out); it is sized from the
/// initial balance; stop, target and trailing stop come from `TripleExit`, checked on the entry bar
/// too; a strategy exit closes every open trade at the next open; what is still open at the end
/// closes at the last close (END_OF_DATA); every fill pays commission and slippage as `config`
/// says. Label 1 when the trade's net pnl is > 0.
public enum SignalDataset {
    /// One simulated trade in progress.
    private struct OpenTrade {
        var row: Int
        var side: Side
        var size: Double
        var entryPrice: Double
        var entryCommission: Double
        var exit: TripleExit
    }

    /// Every entry signal of the strategy over `series`, labelled by its own trade taken with the
    /// backtester's fill and exit rules (commission, slippage); signals that never fill are left
    /// out. Rows are in signal time order. `progress` gets the fraction of bars done every
    /// `config.progressInterval` bars; false cancels with `BacktestError.cancelled`. Throws
    /// `StrategyError` for an unknown strategy or a bad parameter.
    public static func build(
        series: BarSeries, strategy: String, parameters: [String: Double], config: BacktestConfig,
        progress: (Double) -> Bool = { _ in true }
    ) throws -> [LabeledSignal] {
        try build(
            series: series, strategy: StrategyRegistry.make(name: strategy, parameters: parameters), config: config,
            progress: progress
        ).map(\.signal)
    }

    /// `build` with a strategy value (tests script their own); each row comes with the index of the
    /// bar its trade closed on.
    static func build(
        series: BarSeries, strategy: any Strategy, config: BacktestConfig, progress: (Double) -> Bool
    ) throws -> [(signal: LabeledSignal, exitBar: Int)] {
        var runner = strategy
        let n = series.count
        var rows: [(signal: LabeledSignal, exitBar: Int)?] = []
        var open: [OpenTrade] = []
        var tracker = FeatureTracker()
        var pendingEntry: (signal: EntrySignal, row: Int)?
        var pendingExit = false
        let interval = Swift.max(1, config.progressInterval)

        func close(_ trade: OpenTrade, at base: Double, bar: Int) {
            let price = config.slipped(base, buying: trade.side == .sell)
            let commission = trade.size * price * config.commissionRate
            let pnl = trade.side.sign * trade.size * (price - trade.entryPrice) - trade.entryCommission - commission
            rows[trade.row]!.signal.label = pnl > 0 ? 1 : 0
            rows[trade.row]!.exitBar = bar
        }

        for i in 0..<n {
            let bar = series[i]
            // A strategy exit decided on the previous close: every trade open before this bar.
            if pendingExit {
                for trade in open { close(trade, at: bar.open, bar: i) }
                open.removeAll(keepingCapacity: true)
                pendingExit = false
            }
            var entryBase: Double?
            if let (signal, row) = pendingEntry {
                pendingEntry = nil
                if let trade = enter(signal, row: row, bar: bar, config: config) {
                    open.append(trade)
                    entryBase = EntryFill.basePrice(signal, on: bar)
                } else {
                    rows[row] = nil
                }
            }
            // Stops and targets, the new trade's entry bar included (its fill stands in for the open).
            var kept = 0
            for k in open.indices {
                var trade = open[k]
                let reference = k == open.count - 1 ? (entryBase ?? bar.open) : bar.open
                if let fill = trade.exit.check(open: reference, high: bar.high, low: bar.low) {
                    close(trade, at: fill.price, bar: i)
                    continue
                }
                trade.exit.closeBar(high: bar.high, low: bar.low)
                open[kept] = trade
                kept += 1
            }
            open.removeLast(open.count - kept)
            // The strategy decides on this close, from bars up to this one.
            tracker.update(bar)
            switch runner.onBar(bar, now: bar.time) {
            case .hold: break
            case .exit: pendingExit = !open.isEmpty
            case .enter(let signal):
                // A signal on the last bar has no next bar to fill on.
                guard i + 1 < n else { break }
                pendingEntry = (signal, rows.count)
                let row = LabeledSignal(
                    time: bar.time, signalType: signal.signalType, side: signal.side, label: 0,
                    features: tracker.vector(for: signal, bar: bar))
                rows.append((row, n - 1))
            }
            if (i + 1) % interval == 0 && !progress(Double(i + 1) / Double(n)) {
                throw BacktestError.cancelled(processedBars: i + 1)
            }
        }
        if n > 0 {
            for trade in open { close(trade, at: series.close[n - 1], bar: n - 1) }
        }
        return rows.compactMap { $0 }
    }

    /// The trade of `signal` opened on `bar`, nil when the entry does not fill or sizes to zero.
    private static func enter(_ signal: EntrySignal, row: Int, bar: Bar, config: BacktestConfig) -> OpenTrade? {
        guard let base = EntryFill.basePrice(signal, on: bar) else { return nil }
        let price = config.slipped(base, buying: signal.side == .buy)
        let riskUnit = signal.stopLoss.map { abs(price - $0) }
        let size = config.positionSize(signal, price: price, riskUnit: riskUnit, cash: config.initialBalance).size
        guard size > 0 else { return nil }
        return OpenTrade(
            row: row, side: signal.side, size: size, entryPrice: price,
            entryCommission: size * price * config.commissionRate,
            exit: TripleExit(
                side: signal.side, entryPrice: price, stop: signal.stopLoss, target: signal.profitTarget,
                trailDistance: BacktestConfig.trailDistance(signal)))
    }

    /// The signals as training rows (features, labels, times), in the same order.
    public static func rows(_ signals: [LabeledSignal]) -> LabeledRows {
        var features = FeatureMatrix(columns: MLFeatures.count)
        for s in signals { features.append(s.features) }
        return LabeledRows(features: features, labels: signals.map(\.label), times: signals.map(\.time))
    }
}

extension FeatureCSV {
    /// The signals as features-CSV rows of `market` (no commas), in the same order.
    public static func rows(_ signals: [LabeledSignal], market: String) -> [FeatureCSVRow] {
        signals.map {
            FeatureCSVRow(
                time: $0.time, market: market, signalType: $0.signalType.rawValue, label: $0.label, features: $0.features)
        }
    }
}
