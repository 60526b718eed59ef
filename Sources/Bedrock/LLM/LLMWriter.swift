import LLMCore

/// Writes a text with the model for an interactive task (a journal entry, a review memo): the
/// gateway's LLM service, or a stand-in in tests. Blocking: call it on an API worker, never on
/// a service loop.
public protocol LLMWriter: Sendable {
    /// Renders `task`'s template with `values` (every fact computed by Bedrock), asks the model
    /// and returns its answer (Markdown), trimmed. Throws UNAVAILABLE saying why when the model
    /// gives no usable answer (timeout, connection error, 5xx, 429 with its Retry-After, busy,
    /// an empty answer); the failure is counted and the API key is in no message.
    func write(_ task: LLMTask, values: [String: String]) throws(APIError) -> String
}
