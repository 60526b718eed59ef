extension HTTPClient {
    /// An HTTP method the client sends.
    public enum Method: String, Sendable {
        case get = "GET"
        case head = "HEAD"
        case post = "POST"
        case put = "PUT"
        case patch = "PATCH"
        case delete = "DELETE"
    }

    /// One outbound request. Every request carries both timeouts; there is no call without one.
    public struct Request: Sendable {
        /// The method.
        public var method: Method
        /// An absolute `http://` or `https://` URL (other schemes are refused).
        public var url: String
        /// Header fields to send. Set `Content-Type` yourself when there is a body; none is sent
        /// otherwise. Values are never copied into an error message.
        public var headers: Headers
        /// The body, or `nil` for none (ignored for HEAD).
        public var body: [UInt8]?
        /// The whole call, from resolving the host to the last body byte.
        public var timeout: Duration
        /// Resolving and connecting (TLS handshake included), within `timeout`.
        public var connectTimeout: Duration

        /// A request; by default a GET with 10 s in all and 5 s to connect.
        public init(
            method: Method = .get,
            url: String,
            headers: Headers = Headers(),
            body: [UInt8]? = nil,
            timeout: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(5)
        ) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.timeout = timeout
            self.connectTimeout = connectTimeout
        }
    }

    /// A complete response: any status is a response (a 429 or a 500 is not an error here).
    public struct Response: Sendable {
        /// The status code of the final response (after redirects, when those are followed).
        public var status: Int
        /// The final response's header fields.
        public var headers: Headers
        /// The body, decoded when the server compressed it; at most the configured limit.
        public var body: [UInt8]

        /// The body as UTF-8 text (invalid sequences replaced).
        public var text: String { String(decoding: body, as: UTF8.self) }
    }
}
