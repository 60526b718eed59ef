import JSONCodec
import Transport

extension SharedFrame {
    /// A frame holding the compact JSON encoding of `value`.
    convenience init(json value: JSONValue) { self.init(JSONCodec.encode(value)) }
}
