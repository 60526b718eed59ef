import Foundation
import Synchronization
import Transport

/// One HTTP request on the service thread: its id, method, body so far and the response to write.
final class HTTPExchange {
    let wsi: WSI
    /// Unique on its loop: late answers find the exchange by it (`ServiceLoop.respondLater`).
    let serial: UInt64
    let requestID: String
    var method = "GET"
    var path = "/"
    var body: [UInt8] = []
    var bodyTooLarge = false
    /// The most body bytes this request may send (`ServiceLoop.bodyLimit`).
    var bodyLimit = ServiceLoop.maxBodyBytes
    var response: HTTPResponse?
    /// Set once the request has been routed, so a late body-completion callback cannot route it twice.
    var routed = false
    /// True while a request body announced by the headers has not been received in full: a
    /// response ready before that waits for a writable callback instead of being written at once.
    var awaitingBody = false
    /// Refused before routing: answered at once with `connection: close`; a body still arriving
    /// is dropped and the connection closes when it ends (or when lws's timer runs out).
    var closing = false
    var started = 0.0
    var route = "other"
    /// The bearer token's subject once a `/v1` request is authenticated (for the access log).
    var subject: String?
    /// The API key's name when the request authenticated with one (for the access log).
    var apiKeyName: String?
    /// `path` without a query string, should one be there (what the access log shows).
    var pathWithoutQuery: String {
        guard let mark = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return path }
        return String(path[..<mark])
    }
    var origin: String?

    /// True for the methods whose requests may carry a body (lws reads one for these).
    var mayHaveBody: Bool { method == "POST" || method == "PUT" || method == "PATCH" }

    init(wsi: WSI, serial: UInt64, requestID: String) {
        self.wsi = wsi
        self.serial = serial
        self.requestID = requestID
    }

    /// The client's `X-Request-ID` when sane (1–64 chars of `[A-Za-z0-9._-]`), else a new one.
    static func requestID(from wsi: WSI) -> String {
        requestID(given: wsi.customHeader("x-request-id:"))
    }

    /// `given` (an `X-Request-ID` value) when sane, else a new id.
    static func requestID(given: String?) -> String {
        if let given, (1...64).contains(given.utf8.count), given.utf8.allSatisfy({ isIDByte($0) }) {
            return given
        }
        return newRequestID()
    }

    private static func isIDByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95
    }

    /// Requests numbered so far, by every service loop of the process (each loop is a thread).
    private static let counter = Atomic<UInt64>(0)
    private static let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    /// A new request id, unique in the process (any thread).
    static func newRequestID() -> String {
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(prefix)-\(String(number, radix: 16))"
    }

    /// The token of an `Authorization: Bearer` header.
    static func bearerToken(_ wsi: WSI) -> String? {
        guard let value = wsi.header(.authorization) else { return nil }
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
            let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
            return token.isEmpty ? nil : token  // `Bearer ` and blanks only: no token, as on the ASCII path
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

    /// Write status, headers and body in one go (`WSI.writeHTTPResponse`); false when lws
    /// failed. The caller then completes the transaction. `upgradeRefusal`: the request was a
    /// WebSocket upgrade, answered with an HTTP/1.1 status line.
    func writeResponse(corsOrigin: String?, upgradeRefusal: Bool = false) -> Bool {
        guard let response else { return false }
        return wsi.writeHTTPResponse(
            status: response.status, contentType: response.contentType,
            headers: response.headers, body: response.body, headOnly: method == "HEAD",
            upgradeRefusal: upgradeRefusal
        ) { writer in
            addHeaders(corsOrigin: corsOrigin, &writer)
        }
    }

    /// After the response's own headers: `x-request-id`, `cache-control`, `connection: close`
    /// when closing, and CORS.
    private func addHeaders(corsOrigin: String?, _ writer: inout HTTPHeaderWriter) -> Bool {
        guard writer.add("x-request-id:", requestID), writer.add("cache-control:", "no-store") else { return false }
        if closing, !writer.add("connection:", "close") { return false }
        if let corsOrigin {
            guard writer.add("access-control-allow-origin:", corsOrigin), writer.add("vary:", "Origin") else { return false }
        }
        return true
    }
}
