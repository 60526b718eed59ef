import Foundation
import Prometheus

/// Job metrics in the gateway's registry, from this process's memory (no Redis round trip).
///
/// | metric | type | meaning |
/// |---|---|---|
/// | `bedrock_jobs_finished_total{kind,status}` | counter | jobs this gateway finished, by kind and final status |
/// | `bedrock_backtests_run_total` | counter | backtests run to the end (each backtest of an optimisation counts) |
/// | `bedrock_jobs_waiting` / `bedrock_jobs_running` | gauge | jobs queued / running on this gateway (set at scrape time) |
final class JobMetrics: Sendable {
    /// The registry the metrics are in.
    let registry: MetricsRegistry
    /// `bedrock_jobs_finished_total` by kind and status, every series bound up front.
    private let finished: [JobKind: [JobStatus: Counter]]
    private let backtests: Counter
    let waiting: Gauge
    let running: Gauge

    init(registry: MetricsRegistry) {
        self.registry = registry
        var finished: [JobKind: [JobStatus: Counter]] = [:]
        for kind in JobKind.allCases {
            for status in [JobStatus.completed, .failed, .cancelled] {
                finished[kind, default: [:]][status] = registry.counter(
                    "bedrock_jobs_finished_total", help: "Backtest and optimisation jobs finished on this gateway.",
                    labels: [("kind", kind.rawValue), ("status", status.rawValue)])
            }
        }
        self.finished = finished
        backtests = registry.counter(
            "bedrock_backtests_run_total", help: "Backtests run to the end (jobs and optimisation evaluations).")
        waiting = registry.gauge("bedrock_jobs_waiting", help: "Jobs queued on this gateway.")
        running = registry.gauge("bedrock_jobs_running", help: "Jobs running on this gateway.")
    }

    /// Counts a job that reached its final `status`.
    func finished(_ kind: JobKind, _ status: JobStatus) { finished[kind]?[status]?.increment() }

    /// Counts backtests that ran to the end.
    func backtestsRun(_ n: Int) { backtests.increment(by: Int64(n)) }
}

extension JobService {
    /// Sets the queue gauges (a scrape hook, any thread).
    func publishGauges() {
        condition.lock()
        let waiting = queue.count
        let running = active.values.filter { $0.status == .running }.count
        condition.unlock()
        metrics.waiting.set(to: Double(waiting))
        metrics.running.set(to: Double(running))
    }

    /// Counts a finished job (call with `condition` held).
    func countFinished(_ job: Job, _ status: JobStatus) {
        metrics.finished(job.request.kind, status)
    }

    /// Counts backtests that ran to the end (any thread).
    func countBacktests(_ n: Int) { metrics.backtestsRun(n) }
}
