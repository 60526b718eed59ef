/// The error codes of SPEC §4, shared by REST error bodies and WebSocket `error` frames.
///
/// | code                | HTTP | meaning                                              |
/// |---------------------|------|------------------------------------------------------|
/// | `BAD_REQUEST`       | 400  | malformed request or frame, bad parameter            |
/// | `UNAUTHENTICATED`   | 401  | missing, bad or expired token                        |
/// | `FORBIDDEN`         | 403  | the caller's role may not do this                    |
/// | `NOT_FOUND`         | 404  | unknown route, method, or resource                   |
/// | `METHOD_NOT_ALLOWED`| 405  | HTTP method the route does not take (`Allow` lists)  |
/// | `CONFLICT`          | 409  | state conflict (e.g. position already closed)        |
/// | `LENGTH_REQUIRED`   | 411  | HTTP body without a `Content-Length` (chunked)       |
/// | `PAYLOAD_TOO_LARGE` | 413  | request body or frame above the configured limit     |
/// | `URI_TOO_LONG`      | 414  | HTTP request URL above 8 KiB                         |
/// | `HEADERS_TOO_LARGE` | 431  | HTTP request line and headers above 16 KiB           |
/// | `RATE_LIMITED`      | 429  | too many messages, or a lagging send queue           |
/// | `INTERNAL`          | 500  | unexpected server failure                            |
/// | `UNAVAILABLE`       | 503  | dependency down (Redis) or connection limit reached  |
///
/// The raw value is the wire name written into `"error_code"`.
public enum ErrorCode: String, Sendable, CaseIterable, Hashable {
    case badRequest = "BAD_REQUEST"
    case unauthenticated = "UNAUTHENTICATED"
    case forbidden = "FORBIDDEN"
    case notFound = "NOT_FOUND"
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    case conflict = "CONFLICT"
    case lengthRequired = "LENGTH_REQUIRED"
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    case uriTooLong = "URI_TOO_LONG"
    case headersTooLarge = "HEADERS_TOO_LARGE"
    case rateLimited = "RATE_LIMITED"
    case `internal` = "INTERNAL"
    case unavailable = "UNAVAILABLE"

    /// The HTTP status code sent with this error on REST.
    public var httpStatus: Int {
        switch self {
        case .badRequest: return 400
        case .unauthenticated: return 401
        case .forbidden: return 403
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .conflict: return 409
        case .lengthRequired: return 411
        case .payloadTooLarge: return 413
        case .uriTooLong: return 414
        case .headersTooLarge: return 431
        case .rateLimited: return 429
        case .internal: return 500
        case .unavailable: return 503
        }
    }

    /// The standard HTTP reason phrase for `httpStatus` (for the status line).
    public var httpReason: String {
        switch self {
        case .badRequest: return "Bad Request"
        case .unauthenticated: return "Unauthorized"
        case .forbidden: return "Forbidden"
        case .notFound: return "Not Found"
        case .methodNotAllowed: return "Method Not Allowed"
        case .conflict: return "Conflict"
        case .lengthRequired: return "Length Required"
        case .payloadTooLarge: return "Payload Too Large"
        case .uriTooLong: return "URI Too Long"
        case .headersTooLarge: return "Request Header Fields Too Large"
        case .rateLimited: return "Too Many Requests"
        case .internal: return "Internal Server Error"
        case .unavailable: return "Service Unavailable"
        }
    }

    /// The wire name, e.g. `"BAD_REQUEST"`.
    public var wireName: String { rawValue }
}
