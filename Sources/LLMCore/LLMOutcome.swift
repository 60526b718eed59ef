/// How one LLM call ended: the `outcome` label of `bedrock_llm_requests_total{task,outcome}`.
/// Every outcome but `ok` is a failure and makes the caller fall back (NEUTRAL, the template).
public enum LLMOutcome: String, Sendable, CaseIterable, Hashable {
    /// The model answered and the answer parsed.
    case ok
    /// No answer within `timeout_s`.
    case timeout
    /// The connection failed (refused, reset, DNS, TLS).
    case connectionError = "connection_error"
    /// An HTTP 5xx (or any other unexpected status).
    case serverError = "server_error"
    /// HTTP 429.
    case rateLimited = "rate_limited"
    /// The answer arrived but was refused by the strict parser.
    case invalidAnswer = "invalid_answer"
    /// Not called at all: a `Retry-After` was still running.
    case deferred

    /// Whether the call failed (everything except `ok`).
    public var isFailure: Bool { self != .ok }
}
