/// A Redis stream entry id `<ms>-<seq>`, ordered as Redis orders them.
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds part.
    public let ms: UInt64
    /// Sequence part.
    public let seq: UInt64

    /// `0-0`, below every real entry.
    public static let zero = StreamID(ms: 0, seq: 0)

    /// Creates an id from its parts.
    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// Parses `123-4` or `123` (meaning `123-0`); nil for anything else (`$`, `+`, spaces, …).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2,
            parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
            let ms = UInt64(parts[0])
        else { return nil }
        if parts.count == 2 {
            guard let seq = UInt64(parts[1]) else { return nil }
            self.init(ms: ms, seq: seq)
        } else {
            self.init(ms: ms, seq: 0)
        }
    }

    /// The canonical `ms-seq` text.
    public var description: String { "\(ms)-\(seq)" }

    /// Redis order: by milliseconds, then sequence.
    public static func < (a: StreamID, b: StreamID) -> Bool {
        a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq
    }
}

/// Stream key naming shared by the bridge, replay and append helpers (SPEC §7).
public enum StreamKeys {
    /// `<prefix>stream:<topic>`, e.g. `bedrock:stream:signals`.
    public static func key(prefix: String, topic: String) -> String { "\(prefix)stream:\(topic)" }
}
