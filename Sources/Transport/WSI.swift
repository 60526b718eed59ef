internal import CWebSockets

/// A borrowed libwebsockets connection handle (`struct lws *`), server or client side. Owned by
/// lws: valid only on the service thread of its context and only until lws reports the
/// connection closed; never stored beyond that (owners drop it in their close callback). All
/// lws calls on a connection go through this wrapper.
public struct WSI: Hashable, @unchecked Sendable {
    // Sound because it is only dereferenced by lws on the service thread that owns it.
    let raw: OpaquePointer

    /// Bytes of headroom every `lws_write` buffer needs in front of the payload.
    public static let headroom = Int(bedrock_lws_pre)

    /// Value of a well-known request header, nil when absent.
    public func header(_ header: RequestHeader) -> String? {
        let token = header.token
        let length = Int(lws_hdr_total_length(raw, token))
        guard length > 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
            let copied = lws_hdr_copy(raw, buffer.baseAddress, Int32(length + 1), token)
            guard copied >= 0 else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(copied)), as: UTF8.self)
        }
    }

    /// The request method, from the request-line token lws matched (`GET` when none did).
    public var requestMethod: String {
        func has(_ token: lws_token_indexes) -> Bool { lws_hdr_total_length(raw, token) > 0 }
        if has(WSI_TOKEN_GET_URI) { return "GET" }
        if has(WSI_TOKEN_POST_URI) { return "POST" }
        if has(WSI_TOKEN_OPTIONS_URI) { return "OPTIONS" }
        if has(WSI_TOKEN_HEAD_URI) { return "HEAD" }
        if has(WSI_TOKEN_PUT_URI) { return "PUT" }
        if has(WSI_TOKEN_DELETE_URI) { return "DELETE" }
        if has(WSI_TOKEN_PATCH_URI) { return "PATCH" }
        return "GET"
    }

    /// Bytes of the request URL as lws stored it: the path (percent-decoded) and the query.
    public var requestURLBytes: Int {
        let methods = [
            WSI_TOKEN_GET_URI, WSI_TOKEN_POST_URI, WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_HEAD_URI, WSI_TOKEN_PUT_URI,
            WSI_TOKEN_DELETE_URI, WSI_TOKEN_PATCH_URI,
        ]
        let path = methods.reduce(0) { $0 + Int(max(0, lws_hdr_total_length(raw, $1))) }
        return path + Int(max(0, lws_hdr_total_length(raw, WSI_TOKEN_HTTP_URI_ARGS)))
    }

    /// Bytes of the request line and every header lws recognises (the standard HTTP header
    /// names), values only: what a request head is measured by. Headers lws does not know are
    /// not counted (lws 4.1 cannot list them); they only take room in lws's head buffer.
    public var requestHeadBytes: Int {
        var total = 0
        for index in 0..<WSI_TOKEN_COUNT.rawValue {
            total += Int(max(0, lws_hdr_total_length(raw, lws_token_indexes(rawValue: index))))
        }
        return total
    }

    /// Value of a custom header given lower-case with its colon, e.g. `"x-request-id:"`.
    public func customHeader(_ nameWithColon: String) -> String? {
        let nameLength = Int32(nameWithColon.utf8.count)
        let length = Int(lws_hdr_custom_length(raw, nameWithColon, nameLength))
        guard length > 0, length < 8192 else { return nil }
        var buffer = [CChar](repeating: 0, count: length + 1)
        let copied = lws_hdr_custom_copy(raw, &buffer, Int32(buffer.count), nameWithColon, nameLength)
        guard copied >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(copied)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The URL query arguments, url-decoded by lws, as `name=value` fragments split into pairs.
    public func queryArguments() -> [(String, String)] {
        var result: [(String, String)] = []
        let capacity = Int(max(0, lws_hdr_total_length(raw, WSI_TOKEN_HTTP_URI_ARGS))) + 1
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
            var index: Int32 = 0
            while true {
                let n = lws_hdr_copy_fragment(raw, buffer.baseAddress, Int32(capacity), WSI_TOKEN_HTTP_URI_ARGS, index)
                if n < 0 { break }
                let fragment = UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(n))
                if let eq = fragment.firstIndex(of: UInt8(ascii: "=")) {
                    result.append(
                        (
                            String(decoding: fragment[..<eq], as: UTF8.self),
                            String(decoding: fragment[(eq + 1)...], as: UTF8.self)
                        ))
                } else if n > 0 {
                    result.append((String(decoding: fragment, as: UTF8.self), ""))
                }
                index += 1
            }
        }
        return result
    }

    /// The pointer stored with `setUserData` (nil until then): lets the loop find the Swift
    /// object of a connection without a dictionary lookup.
    public var userData: UnsafeMutableRawPointer? { lws_get_opaque_user_data(raw) }

    /// Store a pointer with the connection (service thread). The owner of what it points to
    /// clears it before letting go of the object.
    public func setUserData(_ pointer: UnsafeMutableRawPointer?) { lws_set_opaque_user_data(raw, pointer) }

    /// True when a write now would not go straight out: lws still holds bytes of an earlier
    /// write, or the socket would not report itself writable (lws polls this one descriptor:
    /// the same test as the loop's POLLOUT, so a backlogged client keeps getting batches).
    public var isChoked: Bool { lws_send_pipe_choked(raw) != 0 }

    /// Ask lws for a writable callback on this connection.
    public func requestWritable() { lws_callback_on_writable(raw) }

    /// Drop the connection if it is still open after `seconds` (lws kills it even when the
    /// socket is choked and no writable callback will ever come).
    public func killAfter(seconds: Int) {
        lws_set_timeout(raw, PENDING_TIMEOUT_CLOSE_SEND, Int32(seconds))
    }

    /// Set the close code and reason sent when the callback next returns -1.
    public func setCloseReason(_ code: UInt16, _ reason: String) {
        var bytes = Array(reason.utf8.prefix(120))
        lws_close_reason(raw, lws_close_status(UInt32(code)), &bytes, bytes.count)
    }

    /// Write one WebSocket text frame from `buffer`, whose first `headroom` bytes are scratch for
    /// lws (the caller owns the buffer; lws is done with it when this returns). Returns false
    /// when lws reports a failure (the connection should be dropped).
    public func writeText(_ buffer: UnsafeMutableRawPointer, payloadLength: Int) -> Bool {
        let start = buffer.advanced(by: WSI.headroom).assumingMemoryBound(to: UInt8.self)
        return lws_write(raw, start, payloadLength, LWS_WRITE_TEXT) >= Int32(payloadLength)
    }

    /// Write `bytes` as they are on a raw socket (a `CONNECT` request lws handed over); false
    /// when lws failed.
    public func writeRaw(_ bytes: [UInt8]) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: WSI.headroom + bytes.count) { buffer in
            let start = buffer.baseAddress! + WSI.headroom
            bytes.withUnsafeBufferPointer { start.update(from: $0.baseAddress!, count: bytes.count) }
            return lws_write(raw, start, bytes.count, LWS_WRITE_HTTP) >= Int32(bytes.count)  // LWS_WRITE_RAW is a macro for it
        }
    }

    /// The peer's address as text (no reverse DNS).
    public func peerAddress() -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        guard lws_get_peer_simple(raw, &buffer, buffer.count) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The request headers Bedrock reads through `WSI.header(_:)`.
public enum RequestHeader: Sendable {
    /// The URI of a GET request line (a WebSocket upgrade is always a GET).
    case getURI
    /// `Origin`.
    case origin
    /// `Content-Length`.
    case contentLength
    /// `Transfer-Encoding`.
    case transferEncoding
    /// `Authorization`.
    case authorization

    var token: lws_token_indexes {
        switch self {
        case .getURI: WSI_TOKEN_GET_URI
        case .origin: WSI_TOKEN_ORIGIN
        case .contentLength: WSI_TOKEN_HTTP_CONTENT_LENGTH
        case .transferEncoding: WSI_TOKEN_HTTP_TRANSFER_ENCODING
        case .authorization: WSI_TOKEN_HTTP_AUTHORIZATION
        }
    }
}
