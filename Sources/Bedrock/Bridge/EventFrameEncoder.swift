import CJansson

/// Turns an event's JSON text into the outbound frame with jansson: decode once, encode once.
///
/// Stateless and thread-safe (jansson values are created and freed inside each call).
enum EventFrameEncoder {
    /// The constant frame start for a topic: `{"type":"event","topic":"<T>","id":`.
    /// Compute once per topic and reuse it for every event.
    static func prefix(topic: String) -> [UInt8] {
        var out = Array(#"{"type":"event","topic":"#.utf8)
        out.append(contentsOf: jsonString(topic))
        out.append(contentsOf: #","id":"#.utf8)
        return out
    }

    /// The complete frame, or nil when `event` is not valid JSON (the caller skips and counts it).
    /// - Parameters:
    ///   - prefix: from `prefix(topic:)`.
    ///   - id: the stream id (digits and `-` only, validated by the caller), nil for pub/sub.
    static func frame(prefix: [UInt8], id: String?, event: [UInt8]) -> [UInt8]? {
        let root: UnsafeMutablePointer<json_t>? = event.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            var error = json_error_t()
            return json_loadb(base.assumingMemoryBound(to: CChar.self), raw.count,
                              size_t(JSON_DECODE_ANY), &error)
        }
        guard let root else { return nil }
        defer { bedrock_json_decref(root) }
        var out = prefix
        if let id {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: id.utf8)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","data":"#.utf8)
        guard append(root, to: &out, flags: size_t(JSONCodec.compactFlags)) else { return nil }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A JSON string literal for `text`, escaped by jansson.
    static func jsonString(_ text: String) -> [UInt8] {
        var utf8 = Array(text.utf8)
        let value = utf8.withUnsafeMutableBufferPointer { buf in
            json_stringn_nocheck(UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self), buf.count)
        }
        guard let value else { return Array("\"\"".utf8) }
        defer { bedrock_json_decref(value) }
        var out = [UInt8]()
        _ = append(value, to: &out, flags: size_t(JSON_ENCODE_ANY))
        return out
    }

    /// Streams jansson's encoder output straight into `out` (no intermediate C string).
    private static func append(_ value: UnsafeMutablePointer<json_t>, to out: inout [UInt8], flags: size_t) -> Bool {
        let rc = withUnsafeMutablePointer(to: &out) { outPtr in
            json_dump_callback(UnsafePointer(value), { buffer, size, data in
                guard let buffer, let data else { return -1 }
                let target = data.assumingMemoryBound(to: [UInt8].self)
                UnsafeRawBufferPointer(start: buffer, count: size).withMemoryRebound(to: UInt8.self) {
                    target.pointee.append(contentsOf: $0)
                }
                return 0
            }, outPtr, flags)
        }
        return rc == 0
    }
}
