import CWebSockets
import Foundation

/// One HTTP request on the service thread: its id, method, body so far and the response to write.
final class HTTPExchange {
    let wsi: WSI
    let requestID: String
    var method = "GET"
    var path = "/"
    var body: [UInt8] = []
    var bodyTooLarge = false
    var response: HTTPResponse?
    /// Set once the request has been routed, so a late body-completion callback cannot route it twice.
    var routed = false
    var started = 0.0
    var route = "other"
    var origin: String?

    init(wsi: WSI, requestID: String) {
        self.wsi = wsi
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
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    /// Write status, headers and body; false when lws failed. The caller then completes the
    /// transaction.
    /// `upgradeRefusal`: the request was a WebSocket upgrade (always HTTP/1.1), where lws has
    /// not yet recorded the request version and would write an `HTTP/1.0` status line.
    func writeResponse(corsOrigin: String?, upgradeRefusal: Bool = false) -> Bool {
        guard let response else { return false }
        let headerSpace = 2048 + response.headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 }
        let total = WSI.headroom + headerSpace + WSI.headroom + response.body.count
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: total)
        defer { buffer.deallocate() }
        let start = buffer + WSI.headroom
        var p: UnsafeMutablePointer<UInt8>? = start
        let end = start + headerSpace
        guard lws_add_http_common_headers(wsi.raw, UInt32(response.status), response.contentType,
                                          lws_filepos_t(response.body.count), &p, end) == 0 else { return false }
        var extra = response.headers
        extra.append(("x-request-id:", requestID))
        extra.append(("cache-control:", "no-store"))
        if let corsOrigin {
            extra.append(("access-control-allow-origin:", corsOrigin))
            extra.append(("vary:", "Origin"))
        }
        for (name, value) in extra {
            var v = Array(value.utf8)
            guard lws_add_http_header_by_name(wsi.raw, name, &v, Int32(v.count), &p, end) == 0 else { return false }
        }
        if upgradeRefusal, start[5] == UInt8(ascii: "1"), start[6] == UInt8(ascii: "."), start[7] == UInt8(ascii: "0") {
            start[7] = UInt8(ascii: "1")
        }
        guard lws_finalize_write_http_header(wsi.raw, start, &p, end) == 0 else { return false }
        if response.body.isEmpty || method == "HEAD" { return true }
        let bodyStart = end + WSI.headroom
        response.body.withUnsafeBufferPointer { bodyStart.update(from: $0.baseAddress!, count: $0.count) }
        return lws_write(wsi.raw, bodyStart, response.body.count, LWS_WRITE_HTTP_FINAL) >= 0
    }
}
