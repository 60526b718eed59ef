extension HTTPClient {
    /// HTTP header fields in the order they were given or received. Names compare without regard
    /// to ASCII case (`retry-after` finds `Retry-After`); a name may repeat.
    public struct Headers: Sendable, Equatable, ExpressibleByDictionaryLiteral {
        /// Every field, in order.
        public private(set) var fields: [(name: String, value: String)]

        /// No fields.
        public init() { fields = [] }

        /// The given fields, in the literal's order.
        public init(dictionaryLiteral elements: (String, String)...) {
            fields = elements.map { (name: $0.0, value: $0.1) }
        }

        /// Appends a field (an existing one of the same name stays).
        public mutating func add(_ name: String, _ value: String) {
            fields.append((name: name, value: value))
        }

        /// The value of the first field called `name` (any case), or `nil`.
        public subscript(name: String) -> String? {
            fields.first { Self.sameName($0.name, name) }?.value
        }

        /// The values of every field called `name` (any case), in order.
        public func values(_ name: String) -> [String] {
            fields.filter { Self.sameName($0.name, name) }.map(\.value)
        }

        /// True when a field called `name` (any case) is present.
        public func contains(_ name: String) -> Bool {
            fields.contains { Self.sameName($0.name, name) }
        }

        public static func == (a: Headers, b: Headers) -> Bool {
            a.fields.elementsEqual(b.fields) { $0.name == $1.name && $0.value == $1.value }
        }

        /// Header names are ASCII tokens: compare them byte by byte with ASCII case folded.
        static func sameName(_ a: String, _ b: String) -> Bool {
            a.utf8.elementsEqual(b.utf8) { lowered($0) == lowered($1) }
        }

        private static func lowered(_ byte: UInt8) -> UInt8 {
            byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
        }
    }
}
