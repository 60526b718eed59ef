/// Where and how `OpenAIChatClient` calls a model (SPEC §12 `llm.*`). Its `description`, debug
/// description and mirror leave the API key out, so printing or dumping one never shows it.
public struct OpenAIChatConfiguration: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The server's base URL, up to and without `/chat/completions` (e.g.
    /// `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`); a trailing `/` is ignored.
    public var baseURL: String
    /// The model name sent with every call.
    public var model: String
    /// Sent as `Authorization: Bearer <apiKey>`; empty sends no `Authorization` (local servers).
    public var apiKey: String
    /// The whole call, connecting to the last byte of the answer (`timeout_s`).
    public var timeout: Duration
    /// At most this many calls in flight at once (`max_concurrency`, at least 1); a call beyond it
    /// is refused at once with `.busy`.
    public var maxConcurrency: Int
    /// The largest answer body accepted, in bytes; a larger one is `.malformed`.
    public var maxResponseBytes: Int
    /// A PEM bundle of certificate authorities to trust instead of the system's, or `nil`.
    public var caFile: String?

    /// A configuration; the defaults are SPEC §12's (30 s, 2 calls in flight) and 4 MiB answers.
    public init(
        baseURL: String, model: String, apiKey: String = "", timeout: Duration = .seconds(30), maxConcurrency: Int = 2,
        maxResponseBytes: Int = 4 << 20, caFile: String? = nil
    ) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.timeout = timeout
        self.maxConcurrency = maxConcurrency
        self.maxResponseBytes = maxResponseBytes
        self.caFile = caFile
    }

    /// `POST` target: `{baseURL}/chat/completions`.
    public var completionsURL: String {
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + "/chat/completions"
    }

    /// Settings without the key (it says only whether one is set).
    public var description: String {
        "openai(base_url: \(baseURL), model: \(model), api_key: \(apiKey.isEmpty ? "none" : "set"), "
            + "timeout: \(timeout), max_concurrency: \(maxConcurrency))"
    }

    /// Same as `description`: `String(reflecting:)` and `debugPrint` show no key either.
    public var debugDescription: String { description }

    /// What `dump` and debuggers show: every setting but the key.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "baseURL": baseURL, "model": model, "apiKey": apiKey.isEmpty ? "none" : "[redacted]", "timeout": timeout,
                "maxConcurrency": maxConcurrency, "maxResponseBytes": maxResponseBytes, "caFile": caFile as Any,
            ])
    }
}
