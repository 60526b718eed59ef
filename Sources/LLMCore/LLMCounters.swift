/// Calls counted by task and outcome: a plain value the gateway exports as
/// `bedrock_llm_requests_total{task,outcome}` (every pair is present, zero until counted).
public struct LLMCounters: Sendable, Equatable {
    private var counts: [LLMTask: [LLMOutcome: Int]] = [:]

    /// All counters at zero.
    public init() {}

    /// The count for one task and outcome.
    public subscript(task: LLMTask, outcome: LLMOutcome) -> Int {
        counts[task]?[outcome] ?? 0
    }

    /// Adds one to the counter of `task` and `outcome`.
    public mutating func record(_ task: LLMTask, _ outcome: LLMOutcome) {
        counts[task, default: [:]][outcome, default: 0] += 1
    }

    /// Every (task, outcome, count) triple, in declaration order, zeros included.
    public var all: [(task: LLMTask, outcome: LLMOutcome, count: Int)] {
        LLMTask.allCases.flatMap { task in
            LLMOutcome.allCases.map { outcome in (task, outcome, self[task, outcome]) }
        }
    }
}
