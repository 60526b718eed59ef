import Foundation

/// Job counters for `/metrics` (Prometheus text), from this process's memory (no Redis round
/// trip): safe to call from the metrics thread as often as it likes.
///
/// | metric | type | meaning |
/// |---|---|---|
/// | `bedrock_jobs_finished_total{kind,status}` | counter | jobs this gateway finished, by kind and final status |
/// | `bedrock_backtests_run_total` | counter | backtests run to the end (each backtest of an optimisation counts) |
/// | `bedrock_jobs_waiting` / `bedrock_jobs_running` | gauge | jobs queued / running on this gateway |
extension JobService {
    /// The counters as Prometheus text.
    public func metricsText() -> String {
        condition.lock()
        let finished = finishedCounts
        let backtests = backtestsRun
        let waiting = queue.count
        let running = active.values.filter { $0.status == .running }.count
        condition.unlock()
        var out = "# HELP bedrock_jobs_finished_total Backtest and optimisation jobs finished on this gateway.\n"
        out += "# TYPE bedrock_jobs_finished_total counter\n"
        for kind in JobKind.allCases {
            for status in [JobStatus.completed, .failed, .cancelled] {
                out += "bedrock_jobs_finished_total{kind=\"\(kind.rawValue)\",status=\"\(status.rawValue)\"} \(finished["\(kind.rawValue)|\(status.rawValue)"] ?? 0)\n"
            }
        }
        out += "# HELP bedrock_backtests_run_total Backtests run to the end (jobs and optimisation evaluations).\n"
        out += "# TYPE bedrock_backtests_run_total counter\nbedrock_backtests_run_total \(backtests)\n"
        out += "# HELP bedrock_jobs_waiting Jobs queued on this gateway.\n# TYPE bedrock_jobs_waiting gauge\nbedrock_jobs_waiting \(waiting)\n"
        out += "# HELP bedrock_jobs_running Jobs running on this gateway.\n# TYPE bedrock_jobs_running gauge\nbedrock_jobs_running \(running)\n"
        return out
    }

    /// Counts a finished job (call with `condition` held).
    func countFinished(_ job: Job, _ status: JobStatus) {
        finishedCounts["\(job.request.kind.rawValue)|\(status.rawValue)", default: 0] += 1
    }

    /// Counts backtests that ran to the end (any thread).
    func countBacktests(_ n: Int) {
        condition.lock()
        backtestsRun += n
        condition.unlock()
    }
}
