import CJansson

/// Why a JSON text could not be parsed.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    /// jansson's message, e.g. "'[' or '{' expected near 'x'".
    public let message: String
    /// 1-based line and column of the problem, as jansson reports them.
    public let line: Int
    public let column: Int
    public var description: String { "invalid JSON at line \(line), column \(column): \(message)" }
}

/// JSON parsing and compact encoding through jansson. All jansson pointers live and die inside
/// this file; callers only see `JSONValue` and bytes. Safe to use from any thread (jansson values
/// created here are never shared).
public enum JSONCodec {
    /// Parse one JSON document (any top-level value). Invalid UTF-8, trailing garbage,
    /// NUL bytes and duplicate-free-but-bad documents are errors.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        let root = try load(bytes)
        defer { bedrock_json_decref(root) }
        return value(of: root)
    }

    /// Parse from a byte array.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { raw in try parse(raw) }
    }

    /// Parse from a string.
    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Compact encoding (no spaces, never a raw newline: newlines in strings are escaped).
    public static func encode(_ value: JSONValue) -> [UInt8] {
        let node = makeNode(value)
        defer { bedrock_json_decref(node) }
        return dump(node)
    }

    /// Compact encoding as a String.
    public static func encodeString(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Parse and re-encode compactly in one pass through jansson (no Swift tree): used to
    /// validate and normalise an event document once before it is fanned out.
    public static func compact(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
        let root = try load(bytes)
        defer { bedrock_json_decref(root) }
        return dump(root)
    }

    /// Load with jansson; the caller owns (and must decref) the returned node.
    private static func load(_ bytes: UnsafeRawBufferPointer) throws -> UnsafeMutablePointer<json_t> {
        var error = json_error_t()
        let flags = Int(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES)
        let root: UnsafeMutablePointer<json_t>?
        if let base = bytes.baseAddress, bytes.count > 0 {
            root = json_loadb(base.assumingMemoryBound(to: CChar.self), bytes.count, flags, &error)
        } else {
            root = json_loadb("", 0, flags, &error)
        }
        guard let root else {
            let message = withUnsafeBytes(of: &error.text) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            throw JSONParseError(message: message, line: Int(error.line), column: Int(error.column))
        }
        return root
    }

    /// jansson flags for every compact encoding on the wire: JSON_REAL_PRECISION(15) (a macro),
    /// so prices print as written (29717.13, not 29717.130000000001) and any decimal of up to
    /// 15 significant digits round-trips exactly.
    public static let compactFlags = Int(JSON_COMPACT | JSON_ENCODE_ANY) | (15 << 11)

    private static func dump(_ node: UnsafeMutablePointer<json_t>) -> [UInt8] {
        let flags = JSONCodec.compactFlags
        let size = json_dumpb(node, nil, 0, flags)
        guard size > 0 else { return Array("null".utf8) }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = json_dumpb(node, UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), size, flags)
        }
    }

    private static func value(of node: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch node.pointee.type {
        case JSON_NULL: return .null
        case JSON_TRUE: return .bool(true)
        case JSON_FALSE: return .bool(false)
        case JSON_INTEGER: return .int(Int64(json_integer_value(node)))
        case JSON_REAL: return .double(json_real_value(node))
        case JSON_STRING:
            let length = json_string_length(node)
            let raw = UnsafeRawBufferPointer(start: json_string_value(node), count: length)
            return .string(String(decoding: raw, as: UTF8.self))
        case JSON_ARRAY:
            let n = json_array_size(node)
            var items: [JSONValue] = []
            items.reserveCapacity(n)
            for i in 0..<n { items.append(value(of: json_array_get(node, i))) }
            return .array(items)
        default:
            var members: [(String, JSONValue)] = []
            var iter = json_object_iter(node)
            while let it = iter {
                let key = String(cString: json_object_iter_key(it))
                members.append((key, value(of: json_object_iter_value(it))))
                iter = json_object_iter_next(node, it)
            }
            return .object(JSONObject(members))
        }
    }

    private static func makeNode(_ value: JSONValue) -> UnsafeMutablePointer<json_t> {
        switch value {
        case .null: return json_null()
        case .bool(let b): return b ? json_true() : json_false()
        case .int(let i): return json_integer(json_int_t(i))
        case .double(let d): return d.isFinite ? json_real(d) : json_null()
        case .string(let s):
            var s = s
            return s.withUTF8 { json_stringn_nocheck(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) ?? json_string("") }
        case .array(let items):
            let node = json_array()!
            for item in items { json_array_append_new(node, makeNode(item)) }
            return node
        case .object(let object):
            let node = json_object()!
            for (key, item) in object.members {
                var k = key
                k.withUTF8 { buf in
                    _ = json_object_setn_new_nocheck(node, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self), buf.count, makeNode(item))
                }
            }
            return node
        }
    }
}
