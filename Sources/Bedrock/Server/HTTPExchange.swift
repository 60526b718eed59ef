import CWebSockets
import Foundation

/// One HTTP request on the service thread: its id, method, body so far and the response to write.
final class HTTPExchange {
    let wsi: WSI
    /// Unique on its loop: late answers find the exchange by it (`Gateway.respondLater`).
    let serial: UInt64
    let requestID: String
    var method = "GET"
    var path = "/"
    var body: [UInt8] = []
    var bodyTooLarge = false
    var response: HTTPResponse?
    /// Set once the request has been routed, so a late body-completion callback cannot route it twice.
    var routed = false
    /// True while a request body announced by the headers has not been received in full: a
    /// response ready before that waits for a writable callback instead of being written at once.
    var awaitingBody = false
    var started = 0.0
    var route = "other"
    /// The bearer token's subject once a `/v1` request is authenticated (for the access log).
    var subject: String?
    /// `path` without a query string, should one be there (what the access log shows).
    var pathWithoutQuery: String {
        guard let mark = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return path }
        return String(path[..<mark])
    }
    var origin: String?

    init(wsi: WSI, serial: UInt64, requestID: String) {
        self.wsi = wsi
        self.serial = serial
        self.requestID = requestID
    }

    /// The client's `X-Request-ID` when sane (1–64 chars of `[A-Za-z0-9._-]`), else a new one.
    static func requestID(from wsi: WSI) -> String {
        if let given = wsi.customHeader("x-request-id:"), (1...64).contains(given.utf8.count),
           given.utf8.allSatisfy({ isIDByte($0) }) {
            return given
        }
        return newRequestID()
    }

    private static func isIDByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95
    }

    nonisolated(unsafe) private static var counter: UInt64 = 0
    nonisolated(unsafe) private static let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    /// A new request id (service thread only: the counter is not locked).
    static func newRequestID() -> String {
        counter += 1
        return "\(prefix)-\(String(counter, radix: 16))"
    }

    /// The token of an `Authorization: Bearer` header.
    static func bearerToken(_ wsi: WSI) -> String? {
        guard let value = wsi.header(WSI_TOKEN_HTTP_AUTHORIZATION) else { return nil }
        return bearerToken(in: value)
    }

    private static let bearerScheme: [UInt8] = Array("bearer".utf8)

    /// The token of an `Authorization` value `Bearer <token>` (scheme case-insensitive). Runs on
    /// every authenticated request, so ASCII values are scanned byte by byte with no Foundation;
    /// anything else takes the general path.
    static func bearerToken(in value: String) -> String? {
        let bytes = value.utf8
        guard bytes.allSatisfy({ $0 < 128 }) else {
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return String(parts[1]).trimmingCharacters(in: .whitespaces)
        }
        func blank(_ b: UInt8) -> Bool { b == 32 || b == 9 }
        var start = bytes.startIndex
        while start != bytes.endIndex, bytes[start] == 32 { start = bytes.index(after: start) }
        var scheme = 0
        var i = start
        while i != bytes.endIndex, bytes[i] != 32 {
            guard scheme < 6, bytes[i] | 0x20 == bearerScheme[scheme] else { return nil }
            scheme += 1
            i = bytes.index(after: i)
        }
        guard scheme == 6, i != bytes.endIndex else { return nil }
        while i != bytes.endIndex, blank(bytes[i]) { i = bytes.index(after: i) }
        var end = bytes.endIndex
        while end > i, blank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        guard i < end else { return nil }
        return String(value[i..<end])
    }

    /// Write status, headers and body; false when lws failed. The caller then completes the
    /// transaction. On HTTP/1 headers and body leave in one `lws_write` (one `send`); an HTTP/2
    /// stream needs them as separate writes (lws turns the headers into a HEADERS frame).
    /// `upgradeRefusal`: the request was a WebSocket upgrade (always HTTP/1.1), where lws has
    /// not yet recorded the request version and would write an `HTTP/1.0` status line.
    func writeResponse(corsOrigin: String?, upgradeRefusal: Bool = false) -> Bool {
        guard let response else { return false }
        let headerSpace = 2048 + response.headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 }
        let bodyCount = method == "HEAD" ? 0 : response.body.count
        let total = WSI.headroom + headerSpace + WSI.headroom + bodyCount
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { whole in
            let buffer = whole.baseAddress!
            let start = buffer + WSI.headroom
            var p: UnsafeMutablePointer<UInt8>? = start
            let end = start + headerSpace
            guard lws_add_http_common_headers(wsi.raw, UInt32(response.status), response.contentType,
                                              lws_filepos_t(response.body.count), &p, end) == 0 else { return false }
            guard addHeaders(response.headers, corsOrigin: corsOrigin, &p, end) else { return false }
            if upgradeRefusal, start[5] == UInt8(ascii: "1"), start[6] == UInt8(ascii: "."), start[7] == UInt8(ascii: "0") {
                start[7] = UInt8(ascii: "1")
            }
            if lws_get_network_wsi(wsi.raw) == wsi.raw {
                guard lws_finalize_http_header(wsi.raw, &p, end) == 0, let headersEnd = p else { return false }
                let headerCount = headersEnd - start
                if bodyCount > 0 {
                    response.body.withUnsafeBufferPointer { headersEnd.update(from: $0.baseAddress!, count: bodyCount) }
                }
                return lws_write(wsi.raw, start, headerCount + bodyCount, LWS_WRITE_HTTP_FINAL) >= 0
            }
            guard lws_finalize_write_http_header(wsi.raw, start, &p, end) == 0 else { return false }
            if bodyCount == 0 { return true }
            let bodyStart = end + WSI.headroom
            response.body.withUnsafeBufferPointer { bodyStart.update(from: $0.baseAddress!, count: bodyCount) }
            return lws_write(wsi.raw, bodyStart, bodyCount, LWS_WRITE_HTTP_FINAL) >= 0
        }
    }

    /// The response's own headers, then `x-request-id`, `cache-control` and CORS.
    private func addHeaders(_ own: [(String, String)], corsOrigin: String?,
                            _ p: inout UnsafeMutablePointer<UInt8>?, _ end: UnsafeMutablePointer<UInt8>) -> Bool {
        func add(_ name: String, _ value: String) -> Bool {
            var value = value
            return value.withUTF8 { v in
                lws_add_http_header_by_name(wsi.raw, name, v.baseAddress, Int32(v.count), &p, end) == 0
            }
        }
        for (name, value) in own where !add(name, value) { return false }
        guard add("x-request-id:", requestID), add("cache-control:", "no-store") else { return false }
        if let corsOrigin {
            guard add("access-control-allow-origin:", corsOrigin), add("vary:", "Origin") else { return false }
        }
        return true
    }
}
