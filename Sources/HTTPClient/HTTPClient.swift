internal import CCurl

/// A blocking HTTP/1.1 and HTTP/2 client over libcurl, for worker threads: the exchange adapters,
/// later the LLM and webhook clients. Never call it on a service loop.
///
/// - Every call has a total and a connect timeout (`Request.timeout`, `Request.connectTimeout`)
///   and a low-speed limit; it returns or throws by then.
/// - TLS peers and host names are always verified (against the system store, or
///   `HTTPClientConfiguration.caFile`); `http://` URLs are allowed for tests and testnets, other
///   schemes are refused.
/// - Bodies and headers above the configured limits end the call with `.tooLarge`, so a hostile
///   server cannot grow memory. Redirects are not followed unless configured.
/// - Errors (`HTTPClientError`) never contain header values or the URL's path and query.
///
/// Ownership: a client belongs to the thread that uses it. It holds one libcurl easy handle, which
/// is not thread-safe, and keeps that handle's connections, TLS sessions and DNS answers between
/// calls, so consecutive calls to the same host reuse one connection. The type is not `Sendable`:
/// create it on (or hand it to) the thread that will call `send`, one client per thread.
/// libcurl's signal-based timeouts are off (`CURLOPT_NOSIGNAL`), which is what makes it safe on
/// threads.
public final class HTTPClient {
    /// The settings this client was made with.
    public let configuration: HTTPClientConfiguration
    /// The easy handle: created in `init`, freed in `deinit`, used only inside `send`.
    private let handle: UnsafeMutableRawPointer
    /// libcurl's error text of the last call (CURLOPT_ERRORBUFFER, CURL_ERROR_SIZE bytes).
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// A client with its own easy handle. Throws `.setup` when libcurl cannot be initialised.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) throws(HTTPClientError) {
        let global = CurlGlobal.initResult
        guard global == CURLE_OK else {
            throw .setup("curl_global_init: \(String(cString: curl_easy_strerror(global)))")
        }
        guard let handle = curl_easy_init() else { throw .setup("curl_easy_init returned no handle") }
        self.configuration = configuration
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Sends `request` and waits for the whole response (or the timeout). Any HTTP status is a
    /// response; an error means no complete response arrived.
    public func send(_ request: Request) throws(HTTPClientError) -> Response {
        let target = try RequestTarget(request.url)
        let timeoutMs = try milliseconds(request.timeout, "timeout")
        let connectMs = try milliseconds(request.connectTimeout, "connect timeout")
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for field in request.headers.fields {
            guard !field.name.isEmpty, Self.isSafeHeaderText(field.name), Self.isSafeHeaderText(field.value) else {
                throw .invalidRequest("a header field is empty or contains CR, LF or NUL")
            }
            headerList = try append(headerList, "\(field.name): \(field.value)")
        }
        // libcurl would add `Expect: 100-continue` to larger bodies and wait for an answer to it;
        // and a default form Content-Type to POSTs. Neither is wanted.
        headerList = try append(headerList, "Expect:")
        if !request.headers.contains("Content-Type") { headerList = try append(headerList, "Content-Type:") }

        let sink = ResponseSink(maxBody: configuration.maxResponseBytes, maxHeaderBytes: configuration.maxHeaderBytes)
        curl_easy_reset(handle)  // keeps live connections, TLS sessions and the DNS cache
        try configure(request, timeoutMs: timeoutMs, connectMs: connectMs, headers: headerList)
        let user = Unmanaged.passUnretained(sink).toOpaque()
        try set(CURLOPT_WRITEFUNCTION, callback: ResponseSink.bodyCallback)
        try set(CURLOPT_WRITEDATA, pointer: user)
        try set(CURLOPT_HEADERFUNCTION, callback: ResponseSink.headerCallback)
        try set(CURLOPT_HEADERDATA, pointer: user)
        errorBuffer[0] = 0
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))

        let code = withExtendedLifetime(sink) { curl_easy_perform(handle) }
        guard code == CURLE_OK else {
            let secrets = request.headers.fields.map(\.value) + target.secrets
            throw HTTPClientError.mapping(
                code, detail: String(cString: errorBuffer), host: target.hostPort, secrets: secrets,
                overflow: sink.overflow)
        }
        var status = 0
        guard bedrock_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK else {
            throw .transport("\(target.hostPort): no response status")
        }
        return Response(status: status, headers: sink.headers, body: sink.body)
    }

    /// Every option of one call, set on a freshly reset handle.
    private func configure(
        _ request: Request, timeoutMs: Int, connectMs: Int, headers: UnsafeMutablePointer<curl_slist>?
    ) throws(HTTPClientError) {
        try set(CURLOPT_URL, string: request.url)
        try set(CURLOPT_PROTOCOLS_STR, string: "http,https")
        try set(CURLOPT_NOSIGNAL, long: 1)  // no SIGALRM for DNS timeouts: we run on threads
        try set(CURLOPT_TIMEOUT_MS, long: timeoutMs)
        try set(CURLOPT_CONNECTTIMEOUT_MS, long: connectMs)
        try set(CURLOPT_LOW_SPEED_LIMIT, long: configuration.lowSpeedBytesPerSecond)
        try set(CURLOPT_LOW_SPEED_TIME, long: configuration.lowSpeedSeconds)
        try set(CURLOPT_SSL_VERIFYPEER, long: 1)
        try set(CURLOPT_SSL_VERIFYHOST, long: 2)
        if let caFile = configuration.caFile { try set(CURLOPT_CAINFO, string: caFile) }
        try set(CURLOPT_MAXFILESIZE_LARGE, offT: Int64(configuration.maxResponseBytes))
        try set(CURLOPT_ACCEPT_ENCODING, string: "")  // every decoding libcurl has; the cap applies after it
        if configuration.maxRedirects > 0 {
            try set(CURLOPT_FOLLOWLOCATION, long: 1)
            try set(CURLOPT_MAXREDIRS, long: configuration.maxRedirects)
            try set(CURLOPT_REDIR_PROTOCOLS_STR, string: "http,https")
        }
        if !request.headers.contains("User-Agent") { try set(CURLOPT_USERAGENT, string: configuration.userAgent) }
        try set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(headers))

        switch (request.method, request.body) {
        case (.head, _):
            try set(CURLOPT_NOBODY, long: 1)
        case (.get, nil):
            try set(CURLOPT_HTTPGET, long: 1)
        case (let method, let body):
            let bytes = body ?? []
            try set(CURLOPT_POST, long: 1)
            try set(CURLOPT_POSTFIELDSIZE_LARGE, offT: Int64(bytes.count))
            let code = bytes.withUnsafeBytes { raw in
                // COPYPOSTFIELDS: libcurl copies the body now, so no pointer outlives this closure.
                bedrock_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
            }
            try check(code, "CURLOPT_COPYPOSTFIELDS")
            if method != .post { try set(CURLOPT_CUSTOMREQUEST, string: method.rawValue) }
        }
    }

    private func append(_ list: UnsafeMutablePointer<curl_slist>?, _ line: String) throws(HTTPClientError)
        -> UnsafeMutablePointer<curl_slist>
    {
        guard let next = curl_slist_append(list, line) else { throw .setup("out of memory for headers") }
        return next
    }

    private func milliseconds(_ duration: Duration, _ name: String) throws(HTTPClientError) -> Int {
        let (seconds, attoseconds) = duration.components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        // 0 means "no timeout" to libcurl: a call without one is never made.
        guard ms > 0, seconds < Int64(Int32.max) / 1000 else { throw .invalidRequest("\(name) must be 1 ms to 24 days") }
        return Int(ms)
    }

    /// Header text must not break the request's framing: no CR, LF or NUL.
    private static func isSafeHeaderText(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    private func set(_ option: CURLoption, long value: Int) throws(HTTPClientError) {
        try check(bedrock_curl_setopt_long(handle, option, value), "option \(option.rawValue)")
    }

    private func set(_ option: CURLoption, offT value: Int64) throws(HTTPClientError) {
        try check(bedrock_curl_setopt_off_t(handle, option, curl_off_t(value)), "option \(option.rawValue)")
    }

    private func set(_ option: CURLoption, string value: String) throws(HTTPClientError) {
        // libcurl copies string options, so the C string need only live during the call.
        try check(value.withCString { bedrock_curl_setopt_string(handle, option, $0) }, "option \(option.rawValue)")
    }

    private func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) throws(HTTPClientError) {
        try check(bedrock_curl_setopt_pointer(handle, option, value), "option \(option.rawValue)")
    }

    private func set(_ option: CURLoption, callback: bedrock_curl_data_callback) throws(HTTPClientError) {
        try check(bedrock_curl_setopt_callback(handle, option, callback), "option \(option.rawValue)")
    }

    private func check(_ code: CURLcode, _ what: String) throws(HTTPClientError) {
        guard code == CURLE_OK else { throw .setup("\(what): \(String(cString: curl_easy_strerror(code)))") }
    }
}
