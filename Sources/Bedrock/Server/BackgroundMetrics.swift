import Foundation
import Synchronization

/// Metrics that cost a Redis round trip (ledger totals) or belong to other threads, refreshed on
/// a thread of their own every few seconds; `/metrics` reads the last text without waiting, so
/// the event loop never blocks on them.
final class BackgroundMetrics: @unchecked Sendable {
    // Sound: `cached` is only touched while holding `lock`; `sources` is immutable.
    private let lock = NSLock()
    private var cached = ""
    private let sources: [@Sendable () -> String]
    private let interval: Double
    private let stopFlag = Atomic<Bool>(false)

    /// Each source returns Prometheus text (an empty string when it has nothing).
    init(interval: Double = 2, sources: [@Sendable () -> String]) {
        self.interval = interval
        self.sources = sources
    }

    /// Start refreshing (first refresh at once).
    func start() {
        guard !sources.isEmpty else { return }
        let thread = Thread { [self] in
            while !stopFlag.load(ordering: .acquiring) {
                let text = sources.map { $0() }.joined()
                lock.lock(); cached = text; lock.unlock()
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "bedrock-metrics"
        thread.start()
    }

    /// The latest text (any thread).
    var text: String { lock.lock(); defer { lock.unlock() }; return cached }

    func stop() { stopFlag.store(true, ordering: .releasing) }
}

extension LedgerCounters {
    /// The trading metrics of SPEC §4 in Prometheus text.
    var prometheus: String {
        var out = """
        # HELP bedrock_signals_generated_total signals stored in the ledger
        # TYPE bedrock_signals_generated_total counter
        bedrock_signals_generated_total \(signalsGenerated)
        # TYPE bedrock_signals_approved_total counter
        bedrock_signals_approved_total \(signalsApproved)
        # TYPE bedrock_signals_rejected_total counter
        bedrock_signals_rejected_total \(signalsRejected)
        # TYPE bedrock_positions_opened_total counter
        bedrock_positions_opened_total \(positionsOpened)
        # TYPE bedrock_positions_closed_total counter
        bedrock_positions_closed_total \(positionsClosed)
        # HELP bedrock_open_exposure open position notional in quote currency
        # TYPE bedrock_open_exposure gauge
        bedrock_open_exposure \(openExposure)
        # TYPE bedrock_risk_refusals_total counter

        """
        for (reason, count) in refusals.sorted(by: { $0.key < $1.key }) {
            out += "bedrock_risk_refusals_total{reason=\"\(reason)\"} \(count)\n"
        }
        return out
    }
}
