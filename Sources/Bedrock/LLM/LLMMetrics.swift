import LLMCore
import Prometheus

/// The LLM layer's series on `/metrics` (SPEC §12):
///
/// | metric | type | meaning |
/// |---|---|---|
/// | `bedrock_llm_requests_total{task,outcome}` | counter | model calls by task (sentiment, explanation, journal, review) and outcome (ok, timeout, connection_error, server_error, rate_limited, invalid_answer, deferred: not called because a `Retry-After` ran or the queue was full) |
/// | `bedrock_llm_in_flight` | gauge | model calls in flight now (at most `llm.max_concurrency`) |
///
/// Every task × outcome pair is present from the start (zero until counted). No label or value
/// ever holds the API key, a prompt or an answer.
final class LLMMetrics: Sendable {
    private let requests: [LLMTask: [LLMOutcome: Counter]]
    private let inFlight: Gauge

    /// The series in `registry`.
    init(registry: MetricsRegistry) {
        var requests: [LLMTask: [LLMOutcome: Counter]] = [:]
        for task in LLMTask.allCases {
            for outcome in LLMOutcome.allCases {
                requests[task, default: [:]][outcome] = registry.counter(
                    "bedrock_llm_requests_total", help: "LLM calls by task and outcome.",
                    labels: [("task", task.rawValue), ("outcome", outcome.rawValue)])
            }
        }
        self.requests = requests
        inFlight = registry.gauge("bedrock_llm_in_flight", help: "LLM calls in flight now.")
    }

    /// Counts one call of `task` that ended with `outcome`.
    func count(_ task: LLMTask, _ outcome: LLMOutcome) { requests[task]![outcome]!.increment() }

    /// Sets the in-flight gauge.
    func setInFlight(_ n: Int) { inFlight.set(Double(n)) }
}
