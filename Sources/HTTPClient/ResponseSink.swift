internal import CCurl

/// Collects one response while libcurl performs it: the header lines of the final response and
/// the body, each within its limit. Lives for one `HTTPClient.send`, on that call's thread;
/// libcurl calls the two callbacks below only from inside `curl_easy_perform` on the same thread.
final class ResponseSink {
    private let maxBody: Int
    private let maxHeaderBytes: Int
    private var headerBytes = 0
    private(set) var headers = HTTPClient.Headers()
    private(set) var body: [UInt8] = []
    /// Set when a limit was hit: what was exceeded. The callback then refuses the data, which
    /// makes libcurl stop with a write error.
    private(set) var overflow: String?

    init(maxBody: Int, maxHeaderBytes: Int) {
        self.maxBody = maxBody
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Takes body bytes; false when they would pass the limit.
    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= maxBody else {
            overflow = "body over \(maxBody) bytes"
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Takes one header line (libcurl passes exactly one, with its CRLF); false over the limit.
    /// A status line starts a new response (an interim 1xx, or the next hop of a redirect), so
    /// only the final response's fields are kept.
    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        headerBytes += bytes.count
        guard headerBytes <= maxHeaderBytes else {
            overflow = "headers over \(maxHeaderBytes) bytes"
            return false
        }
        let line = String(decoding: bytes, as: UTF8.self).trimmingLineEnd()
        if line.hasPrefix("HTTP/") {
            headers = HTTPClient.Headers()
            headerBytes = bytes.count
        } else if let colon = line.firstIndex(of: ":") {
            headers.add(
                String(line[..<colon]).trimmingBlanks(),
                String(line[line.index(after: colon)...]).trimmingBlanks())
        }
        return true
    }

    /// CURLOPT_WRITEFUNCTION: `user` is an unretained `ResponseSink` kept alive by `send`.
    static let bodyCallback: bedrock_curl_data_callback = { data, size, count, user in
        let sink = Unmanaged<ResponseSink>.fromOpaque(user!).takeUnretainedValue()
        let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
        return sink.appendBody(bytes) ? size * count : 0
    }

    /// CURLOPT_HEADERFUNCTION: as `bodyCallback`, one header line per call.
    static let headerCallback: bedrock_curl_data_callback = { data, size, count, user in
        let sink = Unmanaged<ResponseSink>.fromOpaque(user!).takeUnretainedValue()
        let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
        return sink.appendHeaderLine(bytes) ? size * count : 0
    }
}

extension String {
    fileprivate func trimmingLineEnd() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\r" || last == "\n" || last == "\r\n" { s = s.dropLast() }
        return String(s)
    }

    fileprivate func trimmingBlanks() -> String {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
