import HTTPClient
import Synchronization

/// A blocking client of an OpenAI-compatible chat-completions server (OpenAI, Qwen's compatible
/// mode, vLLM, Ollama, llama.cpp): `POST {base_url}/chat/completions` with
/// `Authorization: Bearer <key>`, the answer read strictly (`choices[0].message.content`).
///
/// - `complete` blocks the calling thread until the answer, an error, or `timeout`: call it from
///   a worker thread, never from a service loop.
/// - At most `maxConcurrency` calls are in flight. A call beyond that is refused at once with
///   `.busy` rather than queued: the caller (the gateway's LLM scheduler) already decides what to
///   ask and when, so a hidden queue here would only hold worker threads and let answers go stale;
///   a refusal is a plain failure it can count and fall back on.
/// - Failures are typed (`LLMClientError`): timeout, connection, HTTP status with `Retry-After`
///   (seconds or an HTTP date), malformed answer. The API key is in no error, no `description`,
///   and the client logs nothing.
///
/// Thread-safe: any number of threads may call `complete`. Each call in flight uses its own
/// `HTTPClient` (a libcurl handle is single-threaded), taken from an idle pool of at most
/// `maxConcurrency` and returned afterwards, so later calls reuse its connections.
public final class OpenAIChatClient: Sendable, CustomStringConvertible {
    /// The settings (the key among them: do not print `configuration.apiKey`).
    public let configuration: OpenAIChatConfiguration
    private let httpConfiguration: HTTPClientConfiguration
    private let state = Mutex(PoolState())

    private struct PoolState {
        var inFlight = 0
        var idle: [PooledHTTPClient] = []
    }

    /// A client; throws `.invalidRequest` for a `maxConcurrency` below 1 or a timeout below 1 ms.
    /// Nothing is sent until the first call.
    public init(configuration: OpenAIChatConfiguration) throws(LLMClientError) {
        guard configuration.maxConcurrency >= 1 else { throw .invalidRequest("max_concurrency must be at least 1") }
        guard configuration.timeout >= .milliseconds(1) else { throw .invalidRequest("timeout must be at least 1 ms") }
        self.configuration = configuration
        let seconds = Int(configuration.timeout.components.seconds)
        // A model sends nothing until its answer is complete (no streaming): the low-speed limit
        // must not cut a long answer before `timeout` does.
        httpConfiguration = HTTPClientConfiguration(
            caFile: configuration.caFile, maxResponseBytes: configuration.maxResponseBytes,
            lowSpeedSeconds: max(seconds, 0) + 2)
    }

    /// The settings, without the key.
    public var description: String { "OpenAIChatClient(\(configuration))" }

    /// How many calls are in flight now.
    public var inFlight: Int { state.withLock { $0.inFlight } }

    /// Asks the model and waits for its answer (at most `timeout`). Throws `LLMClientError`.
    public func complete(_ request: ChatRequest) throws(LLMClientError) -> ChatCompletion {
        guard !request.messages.isEmpty else { throw .invalidRequest("no messages") }
        let limit = configuration.maxConcurrency
        let admitted: (Bool, PooledHTTPClient?) = state.withLock { pool in
            guard pool.inFlight < limit else { return (false, nil) }
            pool.inFlight += 1
            return (true, pool.idle.popLast())
        }
        guard admitted.0 else { throw .busy(limit: limit) }
        var pooled = admitted.1
        defer {
            let returning = pooled
            state.withLock { pool in
                pool.inFlight -= 1
                if let returning, pool.idle.count < limit { pool.idle.append(returning) }
            }
        }
        if pooled == nil {
            do {
                pooled = PooledHTTPClient(try HTTPClient(configuration: httpConfiguration))
            } catch {
                throw .from(error, redacting: configuration.apiKey)
            }
        }
        return try send(request, with: pooled!.client)
    }

    private func send(_ request: ChatRequest, with client: HTTPClient) throws(LLMClientError) -> ChatCompletion {
        let key = configuration.apiKey
        var headers: HTTPClient.Headers = ["Content-Type": "application/json", "Accept": "application/json"]
        if !key.isEmpty { headers.add("Authorization", "Bearer \(key)") }
        let timeout = configuration.timeout
        let response: HTTPClient.Response
        do {
            response = try client.send(
                HTTPClient.Request(
                    method: .post, url: configuration.completionsURL, headers: headers,
                    body: request.body(model: configuration.model), timeout: timeout,
                    connectTimeout: min(timeout, .seconds(10))))
        } catch {
            throw .from(error, redacting: key)
        }
        let host = Self.host(of: configuration.completionsURL)
        guard response.status == 200 else {
            // Redact first, then cut: a cut through the key would leave a piece no match finds.
            let excerpt = String(LLMClientError.redact(response.text, key).prefix(300))
            throw .http(
                status: response.status, retryAfter: response.headers["Retry-After"].flatMap(RetryAfter.init(header:)),
                message: "\(host): \(excerpt)")
        }
        return try ChatCompletion.parse(response.body, host: host)
    }

    /// `host[:port]` of an absolute URL (no user information, path or query: a key may travel
    /// there on some providers).
    static func host(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "?" }
        var rest = url[schemeEnd.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return String(rest)
    }
}

/// An idle `HTTPClient` in the pool. `@unchecked Sendable`: a client is used by one thread at a
/// time — the one that took it out of the pool under the lock, until it puts it back under the
/// lock — and the lock orders those hand-overs.
private final class PooledHTTPClient: @unchecked Sendable {
    let client: HTTPClient
    init(_ client: HTTPClient) { self.client = client }
}
