import TradingCore

/// The rolling state of one market + interval stream: the last bars seen (bounded) and the
/// configured strategies fed with them, one bar at a time, exactly as the backtester feeds them.
///
/// Continuity: the state is only advanced incrementally when the new bar is the stream entry right
/// after `lastID`. Otherwise (another consumer in the group took the bars in between, a claimed
/// bar from a crashed consumer, a restart) the engine rebuilds it from the stream itself —
/// `XREVRANGE key <id> - COUNT history_bars` — so every decision is made on the bars that precede
/// it in the stream, whichever consumer makes it.
///
/// Threading: owned by the engine thread that processes the stream (or built per call by
/// `signals.generate`); not shared.
struct StrategyBook {
    /// The stream entry id of the last bar fed.
    private(set) var lastID: String?
    /// The last bars fed, oldest first, at most `capacity` (a little more between trims).
    private(set) var bars: [Bar] = []
    private var strategies: [(name: String, strategy: any Strategy)]
    /// The ML features of the bars fed (the same code path as backtests and training).
    private var tracker = FeatureTracker()
    private let capacity: Int
    private let make: () throws -> [(name: String, strategy: any Strategy)]

    /// A fresh book for the live strategies of `settings` that run on `market` (nil: all of
    /// them); throws for an unknown name or a bad parameter.
    init(settings: EngineSettings, market: String? = nil) throws {
        let chosen = market.map { settings.strategies(on: $0) } ?? settings.live
        make = {
            try chosen.map { s in (s.name, try StrategyRegistry.make(name: s.name, parameters: s.parameters)) }
        }
        strategies = try make()
        capacity = settings.historyBars
    }

    /// The bar before the last one fed, if kept.
    var previousBar: Bar? { bars.count >= 2 ? bars[bars.count - 2] : nil }

    /// Feeds one bar to every strategy and returns their decisions on it, in configuration order.
    mutating func feed(_ bar: Bar, id: String?) -> [(name: String, decision: StrategyDecision)] {
        var out: [(name: String, decision: StrategyDecision)] = []
        out.reserveCapacity(strategies.count)
        tracker.update(bar)
        for i in strategies.indices {
            out.append((strategies[i].name, strategies[i].strategy.onBar(bar, now: bar.time)))
        }
        bars.append(bar)
        if bars.count > capacity * 2 { bars.removeFirst(bars.count - capacity) }
        lastID = id
        return out
    }

    /// The feature vector (`MLFeatures` order) of each entry among `decisions`, decided on the
    /// last bar fed; nil for the other decisions.
    func features(of decisions: [(name: String, decision: StrategyDecision)]) -> [[Double]?] {
        guard let bar = bars.last else { return decisions.map { _ in nil } }
        return decisions.map { d in
            guard case .enter(let entry) = d.decision else { return nil }
            return tracker.vector(for: entry, bar: bar)
        }
    }

    /// Starts afresh from `history` (oldest first, ending with the bar to decide on) and returns
    /// the decisions on its last bar.
    mutating func rebuild(_ history: [StreamBar]) throws -> [(name: String, decision: StrategyDecision)] {
        strategies = try make()
        tracker = FeatureTracker()
        bars = []
        var last: [(name: String, decision: StrategyDecision)] = []
        for entry in history { last = feed(entry.bar, id: entry.id) }
        return last
    }
}
