import Foundation
import Prometheus

/// The live engine's own counters for `/metrics` (Prometheus text format), per gateway process —
/// what this gateway's engine did. The ledger-wide trading totals (`bedrock_signals_generated_total`,
/// `bedrock_positions_opened_total`, `bedrock_risk_refusals_total`, `bedrock_open_exposure`, ...)
/// come from `Ledger.counters` and are the same on every gateway; these say how the work was shared.
///
/// | metric | type | meaning |
/// |---|---|---|
/// | `bedrock_engine_signals_total{decision}` | counter | signals this engine recorded first (APPROVED / REJECTED); a redelivered bar counts nothing |
/// | `bedrock_engine_positions_opened_total` | counter | paper positions this engine opened |
/// | `bedrock_engine_positions_closed_total{reason}` | counter | positions this engine closed (STOP_LOSS, TRAILING_STOP, PROFIT_TARGET) |
/// | `bedrock_engine_risk_refusals_total{reason}` | counter | entries refused to this engine, by risk reason code |
/// | `bedrock_engine_open_positions` / `bedrock_engine_open_exposure` | gauge | open positions and Σ size × last price, sampled by the engine at most once a second |
/// | `bedrock_engine_config_version` / `bedrock_engine_paused` / `bedrock_engine_config_unreadable` | gauge | the engine configuration version in effect on this gateway (0: the file's), 1 while paused, 1 while the stored version cannot be read (the engine then runs paused) |
/// | `bedrock_engine_bars_processed_total` | counter | closed bars processed (acknowledged) |
/// | `bedrock_engine_bars_claimed_total` | counter | bars claimed from a crashed or stalled consumer |
/// | `bedrock_engine_history_rebuilds_total` | counter | strategy states rebuilt from the stream |
/// | `bedrock_engine_history_bars_total` | counter | history bars (`"backfill": true`) that only warmed the strategies up (not traded: `engine.trade_history` false); also in `bars_processed` |
/// | `bedrock_engine_errors_total` | counter | failed rounds (Redis errors, undecodable bars) |
/// | `bedrock_engine_market_data_gaps_total` | counter | holes in kline streams (bars trimmed unread), each also a `risk.alert` `MARKET_DATA_GAP` |
///
/// Threading: every method takes the lock, so the engine thread writes while tests read; the
/// registry's metrics are thread-safe on their own.
public final class EngineMetrics: @unchecked Sendable {
    // Sound: every stored `var` is read and written only under `lock`; the `let`s are immutable
    // or thread-safe (registry metrics).
    private let lock = NSLock()
    private var counters: [String: Int64] = [:]
    private var closed: [String: Int64] = [:]
    private var refusals: [String: Int64] = [:]
    /// The registry the metrics are in (the gateway's, or one of its own).
    public let registry: MetricsRegistry
    /// The registry counter of each `add` name that has one.
    private let bound: [String: Counter]
    private var closedSeries: [String: Counter] = [:]
    private var refusalSeries: [String: Counter] = [:]
    private let openPositions: Gauge
    private let exposure: Gauge
    private let configVersion: Gauge
    private let paused: Gauge
    private let unreadable: Gauge

    /// Counters in `registry`.
    public init(registry: MetricsRegistry = MetricsRegistry()) {
        self.registry = registry
        let signals = "Signals recorded by this gateway's engine, by arbiter decision."
        func counter(_ name: String, _ help: String) -> Counter { registry.counter(name, help: help) }
        bound = [
            "signals_approved": registry.counter(
                "bedrock_engine_signals_total", help: signals, labels: [("decision", "APPROVED")]),
            "signals_rejected": registry.counter(
                "bedrock_engine_signals_total", help: signals, labels: [("decision", "REJECTED")]),
            "positions_opened": counter(
                "bedrock_engine_positions_opened_total", "Paper positions opened by this gateway's engine."),
            "bars_processed": counter("bedrock_engine_bars_processed_total", "Closed bars processed by this gateway."),
            "bars_claimed": counter("bedrock_engine_bars_claimed_total", "Bars claimed from a crashed or stalled consumer."),
            "history_rebuilds": counter("bedrock_engine_history_rebuilds_total", "Strategy states rebuilt from the stream."),
            "history_bars": counter(
                "bedrock_engine_history_bars_total", "History (backfill) bars that warmed the strategies up without trading."),
            "errors": counter("bedrock_engine_errors_total", "Failed engine rounds."),
            "market_data_gaps": counter(
                "bedrock_engine_market_data_gaps_total",
                "Holes in kline streams: bars trimmed before this gateway's engine read them."),
        ]
        openPositions = registry.gauge("bedrock_engine_open_positions", help: "Open paper positions (engine sample).")
        exposure = registry.gauge(
            "bedrock_engine_open_exposure", help: "Sum of size times last price of the open positions (engine sample).")
        configVersion = registry.gauge(
            "bedrock_engine_config_version", help: "Engine configuration version in effect on this gateway (0: the file's).")
        paused = registry.gauge("bedrock_engine_paused", help: "1 while the engine is paused (no new signal or entry).")
        unreadable = registry.gauge(
            "bedrock_engine_config_unreadable",
            help: "1 while the stored engine configuration cannot be read by this gateway (the engine runs paused).")
    }

    /// Shows the configuration in effect.
    func setConfiguration(version: Int, paused isPaused: Bool, unreadable isUnreadable: Bool) {
        configVersion.set(to: Double(version))
        paused.set(to: isPaused ? 1 : 0)
        unreadable.set(to: isUnreadable ? 1 : 0)
    }

    func add(_ name: String, _ n: Int64 = 1) {
        lock.lock(); counters[name, default: 0] += n; lock.unlock()
        bound[name]?.increment(by: n)
    }

    func closed(reason: String) {
        lock.lock(); defer { lock.unlock() }
        closed[reason, default: 0] += 1
        series(
            &closedSeries, "bedrock_engine_positions_closed_total", "Positions closed by this gateway's engine, by exit reason.",
            reason
        ).increment()
    }

    func refused(_ code: String) {
        lock.lock(); defer { lock.unlock() }
        refusals[code, default: 0] += 1
        series(&refusalSeries, "bedrock_engine_risk_refusals_total", "Entries refused to this gateway's engine, by reason.", code)
            .increment()
    }

    func setOpen(positions: Int, exposure: Double) {
        openPositions.set(to: Double(positions))
        self.exposure.set(to: exposure)
    }

    /// The value of counter `name` (without the `bedrock_` prefix and `_total` suffix).
    public func count(_ name: String) -> Int64 { lock.lock(); defer { lock.unlock() }; return counters[name] ?? 0 }
    /// Closes by reason.
    public var closedByReason: [String: Int64] { lock.lock(); defer { lock.unlock() }; return closed }
    /// Refusals by reason code.
    public var refusalsByReason: [String: Int64] { lock.lock(); defer { lock.unlock() }; return refusals }

    /// The `reason` series of `name`, bound at its first use (call with `lock` held).
    private func series(_ cache: inout [String: Counter], _ name: String, _ help: String, _ reason: String) -> Counter {
        if let counter = cache[reason] { return counter }
        let counter = registry.counter(name, help: help, labels: [("reason", reason)])
        cache[reason] = counter
        return counter
    }
}
