/// An ordered JSON object. Lookups are linear: objects on the wire are small.
public struct JSONObject: Sendable, Equatable {
    /// Members in document order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// An object with the given members, in order.
    public init(_ members: [(String, JSONValue)] = []) {
        self.members = members.map { (key: $0.0, value: $0.1) }
    }

    /// Get or set a member; setting an existing key replaces it in place, nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let v = newValue { members[i].value = v } else { members.remove(at: i) }
            } else if let v = newValue {
                members.append((key: key, value: v))
            }
        }
    }

    /// Number of members.
    public var count: Int { members.count }
    /// Member names in order.
    public var keys: [String] { members.map(\.key) }

    /// Same members with equal values in the same order.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// An object with the literal's members, in order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}
