internal import CWebSockets

/// HTTP answers on a server connection (service thread, in a callback of that connection).
extension WSI {
    /// Finish the current HTTP transaction (keep-alive: the connection waits for the next
    /// request). The lws return value: -1 when the connection must close, else 0.
    public func completeHTTPTransaction() -> Int32 {
        lws_http_transaction_completed(raw) != 0 ? -1 : 0
    }

    /// Serve the file at `path` with `contentType`; `extraHeaders` are complete header lines
    /// (`"name: value\r\n"` each). lws streams the file from its own buffers and reports the end
    /// with a file-completion callback, which completes the transaction. The lws return value:
    /// -1 to close the connection, else 0 (also when the file was served at once).
    public func serveFile(_ path: String, contentType: String, extraHeaders: String) -> Int32 {
        var headers = extraHeaders
        let result = headers.withUTF8 { bytes in
            lws_serve_http_file(
                raw, path, contentType, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self),
                Int32(bytes.count))
        }
        if result < 0 { return -1 }
        if result > 0 { return completeHTTPTransaction() }
        return 0
    }

    /// Write a whole HTTP response: status line, `content-type`, `content-length`, `headers`
    /// (lower-case names with their colon, e.g. `"x-request-id:"`), then what `moreHeaders`
    /// adds, then `body`. False when lws failed; the caller then closes the connection, else it
    /// completes the transaction. On HTTP/1 headers and body leave in one `lws_write` (one
    /// `send`); an HTTP/2 stream needs them as separate writes (lws turns the headers into a
    /// HEADERS frame). `headOnly`: a HEAD request, the body's length but not its bytes.
    /// `upgradeRefusal`: the request was a WebSocket upgrade (always HTTP/1.1), where lws has not
    /// yet recorded the request version and would write an `HTTP/1.0` status line.
    /// `moreHeaders` must fit in 2 KiB with the status line and the fixed headers.
    public func writeHTTPResponse(
        status: Int, contentType: String, headers: [(String, String)], body: [UInt8],
        headOnly: Bool = false, upgradeRefusal: Bool = false,
        moreHeaders: (inout HTTPHeaderWriter) -> Bool
    ) -> Bool {
        let headerSpace = 2048 + headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 }
        let bodyCount = headOnly ? 0 : body.count
        let total = WSI.headroom + headerSpace + WSI.headroom + bodyCount
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { whole in
            let buffer = whole.baseAddress!
            let start = buffer + WSI.headroom
            let end = start + headerSpace
            var writer = HTTPHeaderWriter(raw: raw, position: start, end: end)
            guard
                lws_add_http_common_headers(
                    raw, UInt32(status), contentType,
                    lws_filepos_t(body.count), &writer.position, end) == 0
            else { return false }
            for (name, value) in headers where !writer.add(name, value) { return false }
            guard moreHeaders(&writer) else { return false }
            if upgradeRefusal, start[5] == UInt8(ascii: "1"), start[6] == UInt8(ascii: "."), start[7] == UInt8(ascii: "0") {
                start[7] = UInt8(ascii: "1")
            }
            var p = writer.position
            if lws_get_network_wsi(raw) == raw {
                guard lws_finalize_http_header(raw, &p, end) == 0, let headersEnd = p else { return false }
                let headerCount = headersEnd - start
                if bodyCount > 0 {
                    body.withUnsafeBufferPointer { headersEnd.update(from: $0.baseAddress!, count: bodyCount) }
                }
                return lws_write(raw, start, headerCount + bodyCount, LWS_WRITE_HTTP_FINAL) >= 0
            }
            guard lws_finalize_write_http_header(raw, start, &p, end) == 0 else { return false }
            if bodyCount == 0 { return true }
            let bodyStart = end + WSI.headroom
            body.withUnsafeBufferPointer { bodyStart.update(from: $0.baseAddress!, count: bodyCount) }
            return lws_write(raw, bodyStart, bodyCount, LWS_WRITE_HTTP_FINAL) >= 0
        }
    }
}

/// Adds headers to a response `WSI.writeHTTPResponse` is building. Lives only for that call, on
/// the service thread; it points into the call's own buffer.
public struct HTTPHeaderWriter {
    fileprivate let raw: OpaquePointer
    fileprivate var position: UnsafeMutablePointer<UInt8>?
    fileprivate let end: UnsafeMutablePointer<UInt8>

    /// Add `nameWithColon` (lower case, e.g. `"vary:"`) with `value`; false when it does not fit.
    public mutating func add(_ nameWithColon: String, _ value: String) -> Bool {
        var value = value
        return value.withUTF8 { v in
            lws_add_http_header_by_name(raw, nameWithColon, v.baseAddress, Int32(v.count), &position, end) == 0
        }
    }
}
