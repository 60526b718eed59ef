import Foundation

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
/// | `bedrock_engine_bars_processed_total` | counter | closed bars processed (acknowledged) |
/// | `bedrock_engine_bars_claimed_total` | counter | bars claimed from a crashed or stalled consumer |
/// | `bedrock_engine_history_rebuilds_total` | counter | strategy states rebuilt from the stream |
/// | `bedrock_engine_errors_total` | counter | failed rounds (Redis errors, undecodable bars) |
///
/// Threading: every method takes the lock, so the engine thread writes while `/metrics` reads.
public final class EngineMetrics: @unchecked Sendable {
    // Sound: every stored property is read and written only under `lock`.
    private let lock = NSLock()
    private var counters: [String: Int64] = [:]
    private var closed: [String: Int64] = [:]
    private var refusals: [String: Int64] = [:]
    private var openPositions = 0
    private var exposure = 0.0

    /// Empty counters.
    public init() {}

    func add(_ name: String, _ n: Int64 = 1) { lock.lock(); counters[name, default: 0] += n; lock.unlock() }
    func closed(reason: String) { lock.lock(); closed[reason, default: 0] += 1; lock.unlock() }
    func refused(_ code: String) { lock.lock(); refusals[code, default: 0] += 1; lock.unlock() }
    func setOpen(positions: Int, exposure: Double) {
        lock.lock(); openPositions = positions; self.exposure = exposure; lock.unlock()
    }

    /// The value of counter `name` (without the `bedrock_` prefix and `_total` suffix).
    public func count(_ name: String) -> Int64 { lock.lock(); defer { lock.unlock() }; return counters[name] ?? 0 }
    /// Closes by reason.
    public var closedByReason: [String: Int64] { lock.lock(); defer { lock.unlock() }; return closed }
    /// Refusals by reason code.
    public var refusalsByReason: [String: Int64] { lock.lock(); defer { lock.unlock() }; return refusals }

    /// The metrics in Prometheus text format (HELP and TYPE lines, one sample a line).
    public func metricLines() -> String {
        lock.lock(); defer { lock.unlock() }
        var out = ""
        func counter(_ name: String, _ help: String, _ key: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(counters[key] ?? 0)\n"
        }
        func labelled(_ name: String, _ help: String, _ values: [String: Int64]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
            for (reason, n) in values.sorted(by: { $0.key < $1.key }) {
                out += "\(name){reason=\"\(reason.replacingOccurrences(of: "\"", with: ""))\"} \(n)\n"
            }
        }
        out += "# HELP bedrock_engine_signals_total Signals recorded by this gateway's engine, by arbiter decision.\n"
        out += "# TYPE bedrock_engine_signals_total counter\n"
        out += "bedrock_engine_signals_total{decision=\"APPROVED\"} \(counters["signals_approved"] ?? 0)\n"
        out += "bedrock_engine_signals_total{decision=\"REJECTED\"} \(counters["signals_rejected"] ?? 0)\n"
        counter("bedrock_engine_positions_opened_total", "Paper positions opened by this gateway's engine.", "positions_opened")
        labelled("bedrock_engine_positions_closed_total", "Positions closed by this gateway's engine, by exit reason.", closed)
        labelled("bedrock_engine_risk_refusals_total", "Entries refused to this gateway's engine, by reason.", refusals)
        out += "# HELP bedrock_engine_open_positions Open paper positions (engine sample).\n"
        out += "# TYPE bedrock_engine_open_positions gauge\nbedrock_engine_open_positions \(openPositions)\n"
        out += "# HELP bedrock_engine_open_exposure Sum of size times last price of the open positions (engine sample).\n"
        out += "# TYPE bedrock_engine_open_exposure gauge\nbedrock_engine_open_exposure \(exposure)\n"
        counter("bedrock_engine_bars_processed_total", "Closed bars processed by this gateway.", "bars_processed")
        counter("bedrock_engine_bars_claimed_total", "Bars claimed from a crashed or stalled consumer.", "bars_claimed")
        counter("bedrock_engine_history_rebuilds_total", "Strategy states rebuilt from the stream.", "history_rebuilds")
        counter("bedrock_engine_errors_total", "Failed engine rounds.", "errors")
        return out
    }
}
