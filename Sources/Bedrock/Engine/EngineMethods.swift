import JSONCodec
import RedisClient
import TradingCore

/// `signals.generate` (SPEC §4/§5, TRADER): `POST /v1/signals/generate`
/// `{"market","interval","force_analysis"?}`.
///
/// Runs the configured strategies now on the latest stored bars of
/// `<prefix>stream:klines:{market}:{interval}` (the last `engine.history_bars`), exactly as the
/// live engine does for that bar, and answers
/// `{"signal": <signal>|null, "reason": <why null>|null, "signals": [...], "market", "interval",
/// "bar_time", "created": bool}`:
/// - each entry is recorded through the ledger (`signal.created`), idempotent per strategy +
///   market + interval + bar: asking twice, or after the engine processed the bar, answers the
///   same signal with `created: false`; an APPROVED market entry is entered through the risk
///   guard at once (idempotent per signal), an APPROVED stop entry waits for the next bar;
/// - `signal` is the first APPROVED signal, else the first one (configuration order);
/// - no entry on the latest bar, or no bars: `signal` null and `reason` in plain words;
/// - `force_analysis: true` adds `"analysis": [{"strategy","decision"}]` (`enter`, `hold`,
///   `exit`), what every strategy concluded on that bar, even when nothing fired.
/// `market` and `interval` follow `MarketParameter` (BAD_REQUEST otherwise); a well-formed market
/// with no stream is not an error: it has no bars (`signal` null with the reason).
public enum EngineMethods {
    /// Registers `signals.generate` in `table`, on `pool` connections (the worker queue).
    public static func register(in table: MethodTable, pipeline: BarPipeline, pool: RedisPool) {
        table.register(
            .pooled(.signalsGenerate, pool: pool, label: "signals.generate") { _, params, connection in
                try generate(params, pipeline: pipeline, on: connection)
            })
    }

    /// The answer of `signals.generate` for `params`.
    static func generate(_ p: LedgerParams, pipeline: BarPipeline, on c: RedisConnection) throws -> JSONValue {
        guard let market = try p.market() else { throw APIError(.badRequest, "market is required") }
        guard let interval = try p.string("interval") else { throw APIError(.badRequest, "interval is required") }
        _ = try MarketParameter.interval(interval)
        var force = false
        if let v = p.params["force_analysis"], !v.isNull {
            guard let b = v.boolValue else { throw APIError(.badRequest, "force_analysis must be a boolean") }
            force = b
        }
        // One read of the configuration in effect: the decision and its record use the same version.
        let state = pipeline.state
        guard !state.paused else {
            throw APIError(.conflict, "the engine is paused: no signal is made until it resumes (POST /v1/engine/resume)")
        }
        let settings = state.settings
        guard !settings.strategies(on: market).isEmpty else {
            let why =
                settings.strategies.isEmpty
                ? "no strategies configured (engine.strategies is empty)"
                : "no strategy of engine.strategies runs on \(market)"
            return .object([
                "signal": .null, "reason": .string(why),
                "signals": .array([]), "market": .string(market), "interval": .string(interval),
                "bar_time": .null, "created": .bool(false),
            ])
        }
        let key = StreamBar.streamKey(prefix: settings.prefix, market: market, interval: interval)
        let history = try BarPipeline.history(key: key, through: "+", count: settings.historyBars, on: c)
        var answer: JSONObject = [
            "signal": .null, "reason": .null, "signals": .array([]),
            "market": .string(market), "interval": .string(interval), "bar_time": .null,
            "created": .bool(false),
        ]
        guard let last = history.last else {
            answer["reason"] = .string("no bars stored for \(market) \(interval)")
            return .object(answer)
        }
        answer["bar_time"] = .string(last.barTime)
        var book = try StrategyBook(settings: settings, market: market)
        let decisions = try book.rebuild(history)
        if force {
            answer["analysis"] = .array(
                decisions.map { d in
                    let text: String
                    switch d.decision {
                    case .hold: text = "hold"
                    case .exit: text = "exit"
                    case .enter: text = "enter"
                    }
                    return .object(["strategy": .string(d.name), "decision": .string(text)])
                })
        }
        let outcomes = try pipeline.decide(
            last, decisions: decisions, features: book.features(of: decisions), state: state, on: c)
        guard !outcomes.isEmpty else {
            answer["reason"] = .string(
                "no entry from \(settings.strategies(on: market).map(\.name).joined(separator: ", ")) on the \(market) \(interval) bar of \(last.barTime) (\(history.count) bars analysed)"
            )
            return .object(answer)
        }
        var signals: [JSONValue] = []
        for o in outcomes {
            if let record = try pipeline.ledger.record(.signal, id: o.signalID, on: c) { signals.append(.object(record)) }
        }
        let chosen = outcomes.firstIndex(where: \.approved) ?? 0
        answer["signals"] = .array(signals)
        answer["signal"] = chosen < signals.count ? signals[chosen] : .null
        answer["created"] = .bool(outcomes[chosen].created)
        return .object(answer)
    }
}
