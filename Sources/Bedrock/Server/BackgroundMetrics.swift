import Foundation
import Prometheus
import Synchronization

/// Metrics that cost a Redis round trip (the ledger totals), refreshed on a thread of their own
/// every few seconds into the registry; `/metrics` shows the last values without waiting, so the
/// event loop never blocks on them.
final class BackgroundMetrics: @unchecked Sendable {
    // Sound: `refresh` and `interval` are immutable; `stopFlag` is atomic.
    private let refresh: [@Sendable () -> Void]
    private let interval: Double
    private let stopFlag = Atomic<Bool>(false)

    /// Each closure updates its metrics in the registry (first refresh at `start`).
    init(interval: Double = 2, refresh: [@Sendable () -> Void]) {
        self.interval = interval
        self.refresh = refresh
    }

    /// Start refreshing (first refresh at once).
    func start() {
        guard !refresh.isEmpty else { return }
        let thread = Thread { [self] in
            while !stopFlag.load(ordering: .acquiring) {
                for body in refresh { body() }
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "bedrock-metrics"
        thread.start()
    }

    func stop() { stopFlag.store(true, ordering: .releasing) }
}

/// The trading metrics of SPEC §4, from the ledger's totals in Redis (`LedgerCounters`), which
/// are the same on every gateway. Used by the metrics thread only.
final class LedgerMetrics {
    private let registry: MetricsRegistry
    private var signalsGenerated: CounterMirror
    private var signalsApproved: CounterMirror
    private var signalsRejected: CounterMirror
    private var positionsOpened: CounterMirror
    private var positionsClosed: CounterMirror
    private let openExposure: Gauge
    private var refusals: [String: CounterMirror] = [:]

    init(registry: MetricsRegistry) {
        self.registry = registry
        func counter(_ name: String, _ help: String) -> CounterMirror { CounterMirror(registry.counter(name, help: help)) }
        signalsGenerated = counter("bedrock_signals_generated_total", "signals stored in the ledger")
        signalsApproved = counter("bedrock_signals_approved_total", "APPROVED signals in the ledger")
        signalsRejected = counter("bedrock_signals_rejected_total", "REJECTED signals in the ledger")
        positionsOpened = counter("bedrock_positions_opened_total", "paper positions ever opened")
        positionsClosed = counter("bedrock_positions_closed_total", "paper positions closed")
        openExposure = registry.gauge("bedrock_open_exposure", help: "open position notional in quote currency")
    }

    /// Set the metrics to the ledger's totals.
    func publish(_ totals: LedgerCounters) {
        signalsGenerated.publish(totals.signalsGenerated)
        signalsApproved.publish(totals.signalsApproved)
        signalsRejected.publish(totals.signalsRejected)
        positionsOpened.publish(totals.positionsOpened)
        positionsClosed.publish(totals.positionsClosed)
        openExposure.set(to: totals.openExposure)
        for (reason, count) in totals.refusals {
            if refusals[reason] == nil {
                refusals[reason] = CounterMirror(
                    registry.counter(
                        "bedrock_risk_refusals_total", help: "entries refused by the risk guard, by reason",
                        labels: [("reason", reason)]))
            }
            refusals[reason]!.publish(count)
        }
    }
}
