internal import CJansson

/// Why a JSON text could not be parsed.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    /// jansson's message, e.g. "'[' or '{' expected near 'x'".
    public let message: String
    /// 1-based line of the problem, as jansson reports it.
    public let line: Int
    /// 1-based column of the problem, as jansson reports it.
    public let column: Int
    /// `invalid JSON at line L, column C: message`.
    public var description: String { "invalid JSON at line \(line), column \(column): \(message)" }
}

/// The package's JSON: parsing through jansson (strict, fast, battle-tested), compact encoding
/// in Swift (`JSONWriter`). This target is the only importer of jansson; every jansson pointer
/// is created and freed inside one call here, so everything is safe from any thread.
public enum JSONCodec {
    /// Parse one JSON document (any top-level value). Invalid UTF-8, trailing garbage and NUL
    /// bytes are errors; so are duplicate keys unless `rejectDuplicateKeys` is false (then the
    /// last value wins, in the first one's place).
    public static func parse(_ bytes: UnsafeRawBufferPointer, rejectDuplicateKeys: Bool = true) throws -> JSONValue {
        let root = try Jansson.load(bytes, rejectDuplicates: rejectDuplicateKeys)
        defer { bedrock_json_decref(root) }
        return Jansson.value(of: root)
    }

    /// Parse from a byte array.
    public static func parse(_ bytes: [UInt8], rejectDuplicateKeys: Bool = true) throws -> JSONValue {
        try bytes.withUnsafeBytes { raw in try parse(raw, rejectDuplicateKeys: rejectDuplicateKeys) }
    }

    /// Parse from a string.
    public static func parse(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0)) }
    }

    /// Compact encoding (no spaces, never a raw newline: newlines in strings are escaped).
    /// Doubles in `significant15` style (the wire format) unless told otherwise.
    public static func encode(_ value: JSONValue, doubles: JSONDoubleStyle = .significant15) -> [UInt8] {
        var writer = JSONWriter(doubles: doubles)
        writer.write(value)
        return writer.bytes
    }

    /// Compact encoding as a String.
    public static func encodeString(_ value: JSONValue, doubles: JSONDoubleStyle = .significant15) -> String {
        String(decoding: encode(value, doubles: doubles), as: UTF8.self)
    }

    /// Indented encoding (two spaces per level, a newline at the end), for files people read.
    public static func encodePretty(_ value: JSONValue, doubles: JSONDoubleStyle = .significant15) -> [UInt8] {
        var writer = JSONWriter(doubles: doubles)
        writer.writePretty(value)
        writer.bytes.append(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// Appends the compact encoding of `value` to `out`.
    public static func append(_ value: JSONValue, to out: inout [UInt8], doubles: JSONDoubleStyle = .significant15) {
        var writer = JSONWriter(doubles: doubles, into: out)
        out = []
        writer.write(value)
        out = writer.bytes
    }

    /// Validates one JSON document and appends it compactly (as `encode(parse(json))` would,
    /// numbers in `significant15` style) without building a `JSONValue`: how an event becomes
    /// the `data` of its frame. Duplicate keys are allowed here (the last one wins, in the first
    /// one's place). False, with `out` unchanged, when `json` is not valid JSON.
    public static func appendCompact(_ json: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        guard let root = try? Jansson.load(json, rejectDuplicates: false) else { return false }
        defer { bedrock_json_decref(root) }
        var writer = JSONWriter(doubles: .significant15, into: out)
        out = []
        Jansson.write(root, to: &writer)
        out = writer.bytes
        return true
    }

    /// The parser's version, e.g. `jansson 2.14`.
    public static var parserVersion: String { "jansson " + String(cString: jansson_version_str()) }
}
