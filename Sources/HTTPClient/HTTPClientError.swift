/// Why a call produced no response. Messages name the host and what failed, never a header
/// value, a body or the URL's path and query (where signatures and keys travel): they are safe to
/// log. A response with any status, 4xx and 5xx included, is not an error.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request was refused before anything was sent: a URL that is not absolute `http(s)`, a
    /// header with a line break, a timeout that is not positive.
    case invalidRequest(String)
    /// The host name could not be resolved.
    case dns(String)
    /// The TCP connection was refused or could not be made.
    case connect(String)
    /// The connect timeout, the total timeout or the low-speed limit ran out.
    case timeout(String)
    /// The TLS handshake failed: an unverifiable or mismatched certificate, an unreadable CA file,
    /// no common protocol.
    case tls(String)
    /// The response's body or headers exceeded the configured limits.
    case tooLarge(String)
    /// Anything else on the wire: the connection dropped, the server sent nothing or garbage, too
    /// many redirects.
    case transport(String)
    /// libcurl could not be initialised or refused an option (a library built without a feature).
    case setup(String)

    /// One line for logs and error messages.
    public var description: String {
        switch self {
        case .invalidRequest(let m): return "invalid request: \(m)"
        case .dns(let m): return "host name not resolved: \(m)"
        case .connect(let m): return "connection failed: \(m)"
        case .timeout(let m): return "timed out: \(m)"
        case .tls(let m): return "TLS failed: \(m)"
        case .tooLarge(let m): return "response too large: \(m)"
        case .transport(let m): return "transport error: \(m)"
        case .setup(let m): return "HTTP client setup failed: \(m)"
        }
    }
}
