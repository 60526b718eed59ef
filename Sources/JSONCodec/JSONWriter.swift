/// Compact JSON text appended to a byte buffer: the package's one encoder (`JSONCodec.encode`
/// uses it; a very large document can also be streamed through it piece by piece).
///
/// Written by hand for speed (a report of 200,000 equity points is ~9 MB): bytes go straight
/// into one growing array, strings are copied in runs between the characters that need an
/// escape, numbers are formatted without building intermediate strings where possible.
/// Escaping matches jansson's: `\"`, `\\`, `\b \f \n \r \t`, other control characters as
/// `\u00XX` (upper-case hex); everything else, including non-ASCII and U+2028, passes through
/// as UTF-8. A value type: each thread uses its own.
public struct JSONWriter {
    /// The text so far.
    public internal(set) var bytes: [UInt8]
    /// How doubles are written.
    public let doubles: JSONDoubleStyle

    /// An empty writer whose buffer holds `capacity` bytes before it grows.
    public init(doubles: JSONDoubleStyle = .significant15, capacity: Int = 0) {
        self.doubles = doubles
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// A writer that appends to `bytes`.
    init(doubles: JSONDoubleStyle, into bytes: [UInt8]) {
        self.doubles = doubles
        self.bytes = bytes
    }

    /// Appends the compact encoding of `value`.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): writeInt(i)
        case .double(let d): writeDouble(d)
        case .string(let s): writeString(s)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for member in object.members {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Hands the text so far to `output` and empties the buffer (keeping its capacity), for
    /// writing a large document out in pieces.
    public mutating func flush(to output: (UnsafeBufferPointer<UInt8>) -> Void) {
        bytes.withUnsafeBufferPointer(output)
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends ASCII text as it is, for streaming a document piece by piece (`{`, `,"key":`,
    /// `]`): keeping the whole valid JSON is then the caller's job.
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends bytes as they are: a piece of JSON text the caller built (see `append(_:)`).
    public mutating func append(_ text: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: text)
    }

    mutating func writeInt(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var n = value.magnitude
        if n < 10 {
            bytes.append(UInt8(truncatingIfNeeded: n) &+ 48)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = 20
            while n > 0 {
                i -= 1
                digits[i] = UInt8(truncatingIfNeeded: n % 10) &+ 48
                n /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i..<20]))
        }
    }

    mutating func writeDouble(_ value: Double) {
        guard value.isFinite else { return append("null") }
        switch doubles {
        case .shortest:
            withUnsafeMutablePointer(to: &bytes) { target in
                var sink = ByteSink(target: target)
                value.write(to: &sink)
            }
        case .significant15:
            Significant15.write(value, to: &bytes)
        }
    }

    mutating func writeString(_ value: String) {
        var text = value
        text.withUTF8 { writeString(utf8: $0) }
    }

    /// Appends a string literal for `text`, which must be valid UTF-8 (as a Swift string's is).
    mutating func writeString(utf8 text: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in 0..<text.count {
            let b = text[i]
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") { continue }
            if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<i])) }
            runStart = i + 1
            switch b {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case UInt8(ascii: "\n"): append("\\n")
            case UInt8(ascii: "\r"): append("\\r")
            case UInt8(ascii: "\t"): append("\\t")
            default:
                append("\\u00")
                let hex: StaticString = "0123456789ABCDEF"
                hex.withUTF8Buffer { h in
                    bytes.append(h[Int(b >> 4)])
                    bytes.append(h[Int(b & 0xF)])
                }
            }
        }
        if runStart < text.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart...])) }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// Receives a double's shortest form: the standard library hands a `TextOutputStream` the
/// digits through `_writeASCII` without building a `String`, where `description` allocates one
/// for 16 characters or more (most computed values). `write` is only the protocol's fallback.
/// It appends to the writer's buffer through a pointer valid for one `write(to:)` call.
struct ByteSink: TextOutputStream {
    let target: UnsafeMutablePointer<[UInt8]>

    mutating func write(_ string: String) {
        var text = string
        text.withUTF8 { target.pointee.append(contentsOf: $0) }
    }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        target.pointee.append(contentsOf: buffer)
    }
}

extension JSONWriter {
    /// Writes `value` indented by two spaces per level, `"key": value`, one member or item per
    /// line (empty arrays and objects stay `[]` and `{}`): for files people read.
    mutating func writePretty(_ value: JSONValue, depth: Int = 0) {
        func newline(_ depth: Int) {
            bytes.append(UInt8(ascii: "\n"))
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
        }
        switch value {
        case .array(let items) where !items.isEmpty:
            bytes.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                writePretty(item, depth: depth + 1)
            }
            newline(depth)
            bytes.append(UInt8(ascii: "]"))
        case .object(let object) where object.count > 0:
            bytes.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                writeString(member.key)
                append(": ")
                writePretty(member.value, depth: depth + 1)
            }
            newline(depth)
            bytes.append(UInt8(ascii: "}"))
        default:
            write(value)
        }
    }
}
