internal import CJansson

/// The jansson side of `JSONCodec`: load a document, then turn the tree into a `JSONValue` or
/// write it straight out. Callers own (and decref) what `load` returns.
enum Jansson {
    static func load(_ bytes: UnsafeRawBufferPointer, rejectDuplicates: Bool) throws -> UnsafeMutablePointer<json_t> {
        var error = json_error_t()
        let flags = Int(JSON_DECODE_ANY | (rejectDuplicates ? JSON_REJECT_DUPLICATES : 0))
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

    static func value(of node: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch node.pointee.type {
        case JSON_NULL: return .null
        case JSON_TRUE: return .bool(true)
        case JSON_FALSE: return .bool(false)
        case JSON_INTEGER: return .int(Int64(json_integer_value(node)))
        case JSON_REAL: return .double(json_real_value(node))
        case JSON_STRING:
            let raw = UnsafeRawBufferPointer(start: json_string_value(node), count: json_string_length(node))
            return .string(String(decoding: raw, as: UTF8.self))
        case JSON_ARRAY:
            let n = json_array_size(node)
            var items: [JSONValue] = []
            items.reserveCapacity(n)
            for i in 0..<n { items.append(value(of: json_array_get(node, i))) }
            return .array(items)
        default:
            var members: [(String, JSONValue)] = []
            members.reserveCapacity(json_object_size(node))
            var iter = json_object_iter(node)
            while let it = iter {
                let key = String(cString: json_object_iter_key(it))
                members.append((key, value(of: json_object_iter_value(it))))
                iter = json_object_iter_next(node, it)
            }
            return .object(JSONObject(members))
        }
    }

    /// Writes the tree as `JSONWriter` writes the equivalent `JSONValue`.
    static func write(_ node: UnsafeMutablePointer<json_t>, to writer: inout JSONWriter) {
        switch node.pointee.type {
        case JSON_NULL: writer.append("null")
        case JSON_TRUE: writer.append("true")
        case JSON_FALSE: writer.append("false")
        case JSON_INTEGER: writer.writeInt(Int64(json_integer_value(node)))
        case JSON_REAL: writer.writeDouble(json_real_value(node))
        case JSON_STRING:
            let raw = UnsafeRawPointer(json_string_value(node)!).assumingMemoryBound(to: UInt8.self)
            writer.writeString(utf8: UnsafeBufferPointer(start: raw, count: json_string_length(node)))
        case JSON_ARRAY:
            writer.bytes.append(UInt8(ascii: "["))
            for i in 0..<json_array_size(node) {
                if i > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                write(json_array_get(node, i), to: &writer)
            }
            writer.bytes.append(UInt8(ascii: "]"))
        default:
            writer.bytes.append(UInt8(ascii: "{"))
            var iter = json_object_iter(node)
            var first = true
            while let it = iter {
                if !first { writer.bytes.append(UInt8(ascii: ",")) }
                first = false
                let key = json_object_iter_key(it)!
                let length = json_object_iter_key_len(it)
                UnsafeRawPointer(key).withMemoryRebound(to: UInt8.self, capacity: length) {
                    writer.writeString(utf8: UnsafeBufferPointer(start: $0, count: length))
                }
                writer.bytes.append(UInt8(ascii: ":"))
                write(json_object_iter_value(it), to: &writer)
                iter = json_object_iter_next(node, it)
            }
            writer.bytes.append(UInt8(ascii: "}"))
        }
    }
}
