import JSONCodec

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
    /// True for a `gap` frame: entries of the topic's stream were trimmed before the bridge could
    /// read them. It travels with the events, in order, but is not an event.
    public let isGap: Bool

    /// Wraps an already encoded frame.
    public init(topic: String, id: String?, frame: [UInt8]) {
        self.topic = topic
        self.id = id
        self.frame = frame
        self.isGap = false
    }

    /// The frame `{"type":"gap","topic":T,"after":A,"next":N}`: every entry of `topic` strictly
    /// between `after` (the last one read) and `next` (the first one after the hole) is lost. T is
    /// the topic's wire name (`user` for a user's stream, as its event frames say).
    public init(gapIn topic: String, after: String, next: String) {
        self.topic = topic
        self.id = nil
        self.frame = JSONCodec.encode(
            .object([
                "type": "gap", "topic": .string(EventFrameEncoder.wireName(topic)), "after": .string(after),
                "next": .string(next),
            ]))
        self.isGap = true
    }
}
