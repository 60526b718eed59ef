import RedisClient
import Synchronization
import TradingCore

/// What became of one strategy decision on one bar.
public struct SignalOutcome: Sendable {
    /// Strategy registry name.
    public var strategy: String
    /// The stored signal's id.
    public var signalID: Int64
    /// False when the signal already existed (a redelivered or re-analysed bar): nothing written.
    public var created: Bool
    /// APPROVED by the arbiter.
    public var approved: Bool
    /// The entry step's outcome (nil: rejected, or a stop entry waiting for the next bar).
    public var entry: EntryOutcome?
}

/// The live pipeline for one closed bar, in the backtester's order (BacktestEngine, SPEC §8):
/// 1. `fillPending`: stop entries decided on the previous bar fill when this bar reaches their
///    level (`Ledger.enter`), else they are cancelled;
/// 2. `manageExits` (BarPipeline+Exits): the open positions of the market are checked against
///    this bar with the triple exit, then closed or marked at the close (trailing stop ratcheted);
/// 3. `decide`: each strategy's entry on this bar becomes a signal (weight bands + arbiter),
///    recorded once (`signal.created`); an APPROVED market entry goes to `Ledger.enter` at once
///    (paper fill at the signal's entry price, the decision bar's close), an APPROVED stop entry
///    waits in `<prefix>engine:pending:{MARKET}:{INTERVAL}` for the next bar.
///
/// Every step is safe to repeat for the same bar (crash and redelivery): the ledger scripts are
/// idempotent per signal and per bar, and a position is only checked by bars after its decision bar.
///
/// Threading: holds no connection; each call uses the caller's.
public final class BarPipeline: Sendable {
    /// The ledger written to.
    public let ledger: Ledger
    /// The settings in effect, the configuration version they come from and whether the engine
    /// is paused (changed between bars by `apply`).
    private let live: Mutex<LiveState>
    /// Counters.
    public let metrics: EngineMetrics
    /// The deployed models that score new signals (nil: no ML score).
    public let models: LiveModels?
    /// The LLM layer: sentiment for new signals, explanations after them (nil: no provider, and
    /// `llm_sentiment` stays null).
    public let llm: (any LLMSignalHooks)?

    /// Creates a pipeline; with `models`, each entry that comes with its feature vector is scored;
    /// with `llm`, each signal takes its market's sentiment and queues its explanation.
    public init(
        ledger: Ledger, settings: EngineSettings, metrics: EngineMetrics, models: LiveModels? = nil,
        llm: (any LLMSignalHooks)? = nil
    ) {
        self.ledger = ledger; self.metrics = metrics; self.models = models; self.llm = llm
        live = Mutex(LiveState(settings: settings, version: 0, paused: false))
    }

    /// What `apply` changes; `state` reads it at once, so one decision uses one version.
    public struct LiveState: Sendable {
        /// Settings in effect.
        public var settings: EngineSettings
        /// Configuration version.
        public var version: Int
        /// True while paused.
        public var paused: Bool
    }

    /// Settings, version and status in effect, read together.
    public var state: LiveState { live.withLock { $0 } }

    /// Engine settings in effect (strategies and arbiter as of the last `apply`).
    public var settings: EngineSettings { live.withLock { $0.settings } }
    /// The engine configuration version in effect (0: the file's).
    public var configVersion: Int { live.withLock { $0.version } }
    /// True while the engine is paused: no new signal or entry.
    public var isPaused: Bool { live.withLock { $0.paused } }

    /// Puts `config` into effect for the next bar: its strategies, arbiter, version and status.
    public func apply(_ config: EngineConfiguration) {
        live.withLock {
            $0.settings.live = config.strategies
            $0.settings.arbiter = config.arbiter
            $0.version = config.version
            $0.paused = config.isPaused
        }
    }

    /// The whole pipeline for `bar` of stream `key` (steps 1–3), given the strategies' decisions
    /// on it and the open time of the bar before it in the stream.
    ///
    /// Redelivery guard: `<prefix>engine:stream_marks` keeps, per stream, the newest bar time
    /// processed. A bar older than that (redelivered after newer bars were processed, or taken
    /// late by a slower gateway) only records its signals: entering or filling orders decided
    /// on an old bar would trade at stale prices. Exits have their own per-position guard
    /// (`manageExits`).
    /// History: a bar not to be traded (`trades` false: a `backfill` bar without
    /// `engine.trade_history`) skips steps 1–3 entirely: the caller has fed it to the strategies (warm-up), and the ledger
    /// is not written (no fill, mark, close, signal or alert). Open positions keep their last mark
    /// and pending stop entries wait; the next live bar checks the positions against itself and
    /// cancels the stop entries (they work on the bar right after their decision only).
    /// `reads` are the bar's state read beforehand in one round trip (`readCommands`); nil reads them.
    /// Ends with the stream mark update and `then` (e.g. the `XACK`), pipelined in one round trip.
    /// `features` holds each decision's feature vector (same order; nil or absent: none).
    /// The settings, version and pause are read once per bar (`state`).
    func process(
        _ bar: StreamBar, key: String, decisions: [(name: String, decision: StrategyDecision)],
        features: [[Double]?] = [], previousTime: Int64?, origins: inout [Int64: PositionOrigin], reads: BarReads? = nil,
        then: [String]? = nil, on c: RedisConnection
    ) throws {
        guard trades(bar) else {
            try finish(bar, key: key, then: then, on: c)
            metrics.add("history_bars")
            return
        }
        let state = try reads ?? BarReads(try c.pipeline(readCommands(bar, key: key)))
        let late = state.newest.map { bar.bar.time < $0 } ?? false
        // Only the newest live bars are the market's price now (the sentiment's 5 % band).
        if !late && !bar.backfill { llm?.observe(market: bar.market, price: bar.bar.close) }
        let current = self.state
        let paused = current.paused
        if !late && !state.pending.isEmpty {
            try fillPending(bar, previousTime: previousTime, stored: state.pending, enter: !paused, on: c)
        }
        if state.openInMarket > 0 || !state.pending.isEmpty {
            try manageExits(bar, previousTime: previousTime, origins: &origins, on: c)
        }
        if !paused {
            _ = try decide(bar, decisions: decisions, features: features, enterApproved: !late, state: current, on: c)
        }
        try finish(bar, key: key, then: then, on: c)
    }

    /// Whether `bar` is traded: a live bar always, a history bar (`backfill`) only with
    /// `engine.trade_history`.
    public func trades(_ bar: StreamBar) -> Bool { !bar.backfill || settings.tradeHistory }

    /// The stream mark update (newest bar time processed) and `then`, in one round trip.
    private func finish(_ bar: StreamBar, key: String, then: [String]?, on c: RedisConnection) throws {
        var final = [["EVAL", BarPipeline.maxScript, "1", settings.prefix + "engine:stream_marks", key, String(bar.bar.time)]]
        if let then { final.append(then) }
        for reply in try c.pipeline(final) { _ = try reply.checked() }
    }

    /// What `process` reads about a bar before acting, in one round trip.
    struct BarReads {
        /// Newest bar time processed in the stream.
        var newest: Int64?
        /// Pending stop entries of the market + interval.
        var pending: [String: String]
        /// Open positions in the market.
        var openInMarket: Int64

        /// Parses the replies of `readCommands` (from index `offset`).
        init(_ replies: [RedisReply], offset: Int = 0) throws {
            newest = try replies[offset].checked().integer
            pending = try replies[offset + 1].checked().hash
            openInMarket = try replies[offset + 2].checked().integer ?? 0
        }
    }

    /// The commands `BarReads` parses.
    func readCommands(_ bar: StreamBar, key: String) -> [[String]] {
        [
            ["HGET", settings.prefix + "engine:stream_marks", key], ["HGETALL", pendingKey(bar)],
            ["ZCARD", "\(settings.prefix)positions:market:\(bar.market):status:OPEN"],
        ]
    }

    /// `HSET KEYS[1] ARGV[1] ARGV[2]` when ARGV[2] is greater than the stored number (or none).
    static let maxScript =
        "local c = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '') "
        + "if not c or tonumber(ARGV[2]) > c then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 1"

    /// Ledger time of the writes caused by `bar`.
    func clock(_ bar: StreamBar) -> Int64 { settings.barClock ? bar.closeMillis : Timestamp.nowMillis() }

    func pendingKey(_ bar: StreamBar) -> String { "\(settings.prefix)engine:pending:\(bar.market):\(bar.interval)" }

    /// The SPEC §8 signal for `entry`, decided by strategy `name` on `bar`, with the ML score of
    /// `ml` (and its model), the feature vector it was computed from and the LLM's `sentiment`.
    public func signalInput(
        _ entry: EntrySignal, strategy name: String, bar: StreamBar, ml: LiveModels.Scored = .init(),
        features: [Double]? = nil, sentiment: LLMSentiment? = nil, arbiter: ArbiterConfig? = nil
    ) -> SignalInput {
        let assessment = SignalAssessment.assess(
            entry, mlScore: ml.score, sentiment: sentiment, arbiter: arbiter ?? settings.arbiter)
        var explanation = "\(name) \(entry.signalType.rawValue) on \(bar.market) \(bar.interval) bar \(bar.barTime): "
        if case .stop(let level) = entry.order {
            explanation += "\(entry.side == .buy ? "buy" : "sell") stop at \(level), working on the next bar only; "
        }
        explanation += assessment.verdict.explanation
        if let failure = ml.failure { explanation += "; no ML score (\(failure.message))" }
        return SignalInput(
            strategy: name, market: bar.market, interval: bar.interval, barTime: bar.barTime,
            signalType: entry.signalType.rawValue, side: entry.side.rawValue,
            entryPrice: entry.entryPrice, stopLossPrice: entry.stopLoss,
            profitTargetPrice: entry.profitTarget, riskUnitR: entry.riskUnit,
            suggestedPositionWeight: assessment.suggestedPositionWeight,
            ruleEngineScore: entry.score, mlConfidenceScore: ml.score, llmSentiment: sentiment?.rawValue,
            finalDecision: assessment.verdict.decision.rawValue,
            explanation: explanation, mlModel: ml.model, features: features)
    }

    /// The ML score of `entry` by the deployed models (none without models or features); a
    /// failure's first occurrence in an outage raises `risk.alert` `ML_MODEL_FAILED`.
    func score(
        _ entry: EntrySignal, strategy name: String, bar: StreamBar, features: [Double]?, on c: RedisConnection
    ) throws -> LiveModels.Scored {
        guard let models, let features else { return .init() }
        let scored = models.score(
            strategy: name, market: bar.market, interval: bar.interval, barTime: bar.barTime, features: features)
        if let model = scored.model { models.recovered(model) }
        if let failure = scored.failure, models.shouldAlert(failure.model) {
            _ = try ledger.run(
                "model_alert", ["model": .string(failure.model), "message": .string(failure.message)], on: c,
                nowMillis: clock(bar))
        }
        return scored
    }

    /// Step 3: records the entries among `decisions` and enters the approved ones (only records
    /// them when `enterApproved` is false: a late bar, see `process`). `features[i]` is the
    /// feature vector of `decisions[i]`: recorded on the signal and scored by the deployed models.
    public func decide(
        _ bar: StreamBar, decisions: [(name: String, decision: StrategyDecision)], features: [[Double]?] = [],
        enterApproved: Bool = true, state given: LiveState? = nil, on c: RedisConnection
    ) throws -> [SignalOutcome] {
        var out: [SignalOutcome] = []
        let now = clock(bar)
        let current = given ?? state
        if let models, decisions.contains(where: { if case .enter = $0.decision { true } else { false } }) {
            try models.refresh(on: c)
        }
        for (i, (name, decision)) in decisions.enumerated() {
            guard case .enter(let entry) = decision else { continue }
            let vector = i < features.count ? features[i] : nil
            let ml = try score(entry, strategy: name, bar: bar, features: vector, on: c)
            // History bars get no sentiment (today's news says nothing about them) and no explanation.
            let sentiment = bar.backfill ? nil : llm?.sentiment(market: bar.market, price: bar.bar.close)
            var input = signalInput(
                entry, strategy: name, bar: bar, ml: ml, features: vector, sentiment: sentiment,
                arbiter: current.settings.arbiter)
            input.params = current.settings.resolvedParameters(of: name, on: bar.market)
            input.configVersion = current.version
            let write = try ledger.recordSignal(input, on: c, nowMillis: now)
            guard let id = write.id, write.status == "created" || write.status == "existing" else {
                throw LedgerError.reply("record_signal answered \(write.status): \(write.message ?? "")")
            }
            let created = write.status == "created"
            let approved = input.finalDecision == FinalDecision.approved.rawValue
            if created {
                if !bar.backfill { llm?.explain(signalID: id, signal: input) }
                metrics.add("signals_generated")
                metrics.add(approved ? "signals_approved" : "signals_rejected")
            }
            var outcome = SignalOutcome(strategy: name, signalID: id, created: created, approved: approved)
            if approved && enterApproved {
                let trail = entry.atr.flatMap { a in entry.trailingATRMultiple.map { a * $0 } }
                switch entry.order {
                case .market:
                    outcome.entry = try enter(id, trailingDistance: trail, on: c, nowMillis: now)
                case .stop(let level):
                    let value = "\(bar.bar.time)|\(entry.side.rawValue)|\(level)|\(trail.map { String($0) } ?? "")"
                    _ = try c.command(["HSET", pendingKey(bar), String(id), value]).checked()
                }
            }
            out.append(outcome)
        }
        return out
    }

    /// `Ledger.enter` with the counters, and the drawdown kill switch latched on a breach.
    func enter(
        _ signalID: Int64, trailingDistance: Double?, on c: RedisConnection,
        nowMillis: Int64
    ) throws -> EntryOutcome {
        let outcome = try ledger.enter(signalID: signalID, trailingDistance: trailingDistance, on: c, nowMillis: nowMillis)
        switch outcome {
        case .opened: metrics.add("positions_opened")
        case .existing: break
        case .refused(let reasons):
            for reason in reasons { metrics.refused(reason.code.rawValue) }
            if let dd = reasons.first(where: { $0.code == .maxDrawdownKillSwitch }) {
                _ = try ledger.acceptingUnreplicated {
                    try ledger.setKillSwitch(true, by: "risk-guard", reason: dd.message, on: c, nowMillis: nowMillis)
                }
            }
        }
        return outcome
    }

    /// Step 1: fills or cancels the stop entries decided on the bar before `bar`
    /// (`previousTime`; when unknown, `bar.time` − interval); `enter` false (paused) cancels
    /// them all. Returns the filled signal ids.
    @discardableResult
    public func fillPending(
        _ bar: StreamBar, previousTime: Int64?, stored known: [String: String]? = nil, enter entering: Bool = true,
        on c: RedisConnection
    ) throws -> Set<Int64> {
        let key = pendingKey(bar)
        let stored = try known ?? c.command(["HGETALL", key]).checked().hash
        guard !stored.isEmpty else { return [] }
        let previous = previousTime ?? StreamBar.intervalMillis(bar.interval).map { bar.bar.time - $0 }
        var filled: Set<Int64> = []
        for (field, value) in stored {
            let parts = value.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard let id = Int64(field), parts.count == 4, let decided = Int64(parts[0]),
                let level = Double(parts[2])
            else {
                _ = try c.command(["HDEL", key, field]).checked(); continue
            }
            if decided >= bar.bar.time { continue }  // decided on this bar or a later one
            if decided == previous && entering {
                let reached = parts[1] == Side.buy.rawValue ? bar.bar.high >= level : bar.bar.low <= level
                if reached {
                    _ = try enter(id, trailingDistance: Double(parts[3]), on: c, nowMillis: clock(bar))
                    filled.insert(id)
                }
            }
            _ = try c.command(["HDEL", key, field]).checked()
        }
        return filled
    }
}
