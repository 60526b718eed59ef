/// A JSON document as a Swift value: the one JSON model of the package (wire frames, reports,
/// configuration). Objects keep their key order, so frames read naturally (`{"type":...}` first)
/// and reports keep their documented key order. `JSONCodec` parses (jansson) and encodes (Swift).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The member `key` of an object, nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The string payload, nil for other kinds.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The integer payload; a double with an exact integer value also counts.
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }
    /// Any number as a Double.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    /// The boolean payload, nil for other kinds.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The object payload, nil for other kinds.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    /// The array payload, nil for other kinds.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// True for `null`.
    public var isNull: Bool { if case .null = self { return true }; return false }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// A string, or null when nil.
    public static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    /// A number, or null when nil or not finite.
    public static func number(_ d: Double?) -> JSONValue {
        guard let d, d.isFinite else { return .null }
        return .double(d)
    }

    /// An object with these members, in order.
    public static func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(members)) }

    /// A number written plainly: a whole number of magnitude below 1e15 as `.int` (so it prints
    /// without a fraction in every style: `1000`, not `1000.0`), any other finite value as
    /// `.double`, nil and non-finite values as null. Reports use it for every metric.
    public static func plain(_ d: Double?) -> JSONValue {
        guard let d, d.isFinite else { return .null }
        if d.rounded() == d, abs(d) < 1e15 { return .int(Int64(d)) }
        return .double(d)
    }
}

extension JSONValue {
    /// What `JSONCodec.parse(JSONCodec.encode(self, doubles: style))` returns, without writing
    /// and reading the whole text: each double rounded as `style` writes it (`shortest` keeps
    /// it), non-finite doubles null. For a value that is sent now and whose stored encoding is
    /// read back later, so that both show the very same numbers.
    public func roundTripped(doubles style: JSONDoubleStyle = .significant15) -> JSONValue {
        switch self {
        case .double(let d):
            guard d.isFinite else { return .null }
            guard case .significant15 = style else { return self }
            var text: [UInt8] = []
            Significant15.write(d, to: &text)
            return .double(Double(String(decoding: text, as: UTF8.self))!)
        case .array(let items): return .array(items.map { $0.roundTripped(doubles: style) })
        case .object(let object):
            return .object(JSONObject(object.members.map { ($0.key, $0.value.roundTripped(doubles: style)) }))
        default: return self
        }
    }
}
