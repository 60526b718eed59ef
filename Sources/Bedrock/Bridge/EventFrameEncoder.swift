import JSONCodec

/// Turns an event's JSON text into the outbound frame: validated and compacted in one pass
/// (`JSONCodec.appendCompact`: jansson parses, the Swift writer writes straight from its tree,
/// no `JSONValue` in between), once per event on the Redis reader thread.
///
/// Stateless and thread-safe.
enum EventFrameEncoder {
    /// The name frames carry for a bridged topic: `user` for a user's stream `user:<sub>` (each
    /// subscriber reads only its own, SPEC §14), the topic itself otherwise.
    static func wireName(_ topic: String) -> String { topic.hasPrefix("user:") ? "user" : topic }

    /// The constant frame start for a topic: `{"type":"event","topic":"<T>","id":` (T its
    /// `wireName`). Compute once per topic and reuse it for every event.
    static func prefix(topic: String) -> [UInt8] {
        var out = Array(#"{"type":"event","topic":"#.utf8)
        JSONCodec.append(.string(wireName(topic)), to: &out)
        out.append(contentsOf: #","id":"#.utf8)
        return out
    }

    /// The complete frame, or nil when `event` is not valid JSON (the caller skips and counts it).
    /// - Parameters:
    ///   - prefix: from `prefix(topic:)`.
    ///   - id: the stream id (digits and `-` only, validated by the caller), nil for pub/sub.
    static func frame(prefix: [UInt8], id: String?, event: [UInt8]) -> [UInt8]? {
        var out = prefix
        out.reserveCapacity(prefix.count + event.count + 40)
        if let id {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: id.utf8)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","data":"#.utf8)
        let valid = event.withUnsafeBytes { JSONCodec.appendCompact($0, to: &out) }
        guard valid else { return nil }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
