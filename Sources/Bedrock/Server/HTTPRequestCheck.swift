import Transport

/// What a request head and its body framing must meet before the request is routed, and the
/// §4 refusal when they do not: every such request is answered at once, none waits for a body
/// that cannot come.
///
/// | limit                                   | answer                     |
/// |-----------------------------------------|----------------------------|
/// | URL (path and query) over 8 KiB         | 414 `URI_TOO_LONG`         |
/// | request line and headers over 16 KiB    | 431 `HEADERS_TOO_LARGE`    |
/// | `Transfer-Encoding` on a request body   | 411 `LENGTH_REQUIRED`      |
/// | `Content-Length` not a decimal integer  | 400 `BAD_REQUEST`          |
/// | `Content-Length` over the body limit    | 413 `PAYLOAD_TOO_LARGE`    |
///
/// libwebsockets holds up to `LWSServerSettings.maxHeadBytes` (32 KiB) of a head; a head that
/// does not fit there is dropped by lws before any of this runs.
enum HTTPRequestCheck {
    /// Longest request URL answered (bytes of path and query).
    static let maxURLBytes = 8 << 10
    /// Most bytes of request line and headers answered (`WSI.requestHeadBytes`).
    static let maxHeadBytes = 16 << 10

    /// The refusal for a head over the limits, nil when within them.
    static func headRefusal(_ wsi: WSI) -> APIError? {
        if wsi.requestURLBytes > maxURLBytes {
            return APIError(.uriTooLong, "request URL longer than \(maxURLBytes) bytes")
        }
        if wsi.requestHeadBytes > maxHeadBytes {
            return APIError(.headersTooLarge, "request line and headers larger than \(maxHeadBytes) bytes in total")
        }
        return nil
    }

    /// How a request that may carry a body (POST, PUT, PATCH) frames it.
    enum Body: Equatable {
        /// No body follows.
        case none
        /// This many bytes follow.
        case length(Int)
        /// Refused: answer at once and close the connection (the body is never read).
        case refused(ErrorCode, String)
    }

    /// The body framing from the `Content-Length` and `Transfer-Encoding` values as sent.
    static func body(contentLength: String?, transferEncoding: String?, maxBytes: Int) -> Body {
        if let transferEncoding, !transferEncoding.isEmpty {
            return .refused(.lengthRequired, "send the body with a Content-Length (Transfer-Encoding is not accepted)")
        }
        guard let contentLength else { return .none }
        let digits = contentLength.utf8
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return .refused(.badRequest, "Content-Length must be a non-negative decimal integer")
        }
        let significant = digits.drop(while: { $0 == 48 })  // leading zeros
        // 18 digits cannot overflow an Int; more are over any limit anyway.
        let length = significant.count > 18 ? Int.max : significant.reduce(0) { $0 * 10 + Int($1 - 48) }
        guard length <= maxBytes else { return .refused(.payloadTooLarge, "request body over \(maxBytes) bytes") }
        return length == 0 ? .none : .length(length)
    }

    /// True when `given` equals `expected`, in time that depends only on their lengths (a
    /// secret compared byte by byte must not tell where the first difference is).
    static func constantTimeEquals(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        difference |= a.count == b.count ? 0 : 1
        for i in 0..<b.count { difference |= (i < a.count ? a[i] : 0) ^ b[i] }
        return difference == 0
    }
}
