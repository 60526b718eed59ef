/// One event ready for fan-out: the complete outbound frame, encoded once.
///
/// `frame` is the compact JSON text `{"type":"event","topic":…,"id":…,"data":…}`; it never
/// contains a raw newline, so frames can be batched with `\n` separators (SPEC §5).
public struct BridgedEvent: Sendable {
    /// The topic the event belongs to (`signals`, `klines:BTC-USDT:1m`, …).
    public let topic: String
    /// The stream entry id (`1700000000000-0`); nil for pub/sub events, which have none.
    public let id: String?
    /// The full frame bytes, shared immutably by every subscriber.
    public let frame: [UInt8]

    /// Wraps an already encoded frame.
    public init(topic: String, id: String?, frame: [UInt8]) {
        self.topic = topic
        self.id = id
        self.frame = frame
    }
}
