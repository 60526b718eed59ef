import HTTPClient

/// Why a chat call gave no usable answer. Every message names the host and what failed; the API
/// key never appears in one (it is cut out of anything the server or libcurl said before the
/// error is made), so errors are safe to log and to show.
public enum LLMClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `max_concurrency` calls were already in flight: refused at once, nothing was sent.
    case busy(limit: Int)
    /// No complete answer within `timeout_s` (connecting, waiting, or reading).
    case timeout(String)
    /// No answer at all: the host could not be resolved or reached, TLS failed, or the connection
    /// dropped.
    case connection(String)
    /// The server answered with a status other than 200: 429 (rate limited), 5xx, 401… with its
    /// `Retry-After` when it sent a readable one.
    case http(status: Int, retryAfter: RetryAfter?, message: String)
    /// A 200 whose body is not a chat completion with a string `choices[0].message.content`, or
    /// is over the size limit.
    case malformed(String)
    /// The call could not be made as configured (a bad `base_url`, an empty message list).
    case invalidRequest(String)

    /// What happened, for a log line or an error body.
    public var description: String {
        switch self {
        case .busy(let limit): return "LLM busy: \(limit) calls already in flight"
        case .timeout(let message): return "LLM timeout: \(message)"
        case .connection(let message): return "LLM connection failed: \(message)"
        case .http(let status, let retryAfter, let message):
            let hint = retryAfter.map { ", Retry-After \($0)" } ?? ""
            return "LLM answered HTTP \(status)\(hint): \(message)"
        case .malformed(let message): return "LLM answer unusable: \(message)"
        case .invalidRequest(let message): return "LLM request invalid: \(message)"
        }
    }

    /// The transport failure of one call, with `secret` (the API key) cut out of its text.
    static func from(_ error: HTTPClientError, redacting secret: String) -> LLMClientError {
        let text = redact(error.description, secret)
        switch error {
        case .timeout: return .timeout(text)
        case .dns, .connect, .tls, .transport: return .connection(text)
        case .tooLarge: return .malformed(text)
        case .invalidRequest, .setup: return .invalidRequest(text)
        }
    }

    /// `text` with every occurrence of `secret` replaced (nothing to cut when it is empty).
    static func redact(_ text: String, _ secret: String) -> String {
        secret.isEmpty ? text : text.replacing(secret, with: "[redacted]")
    }
}
