/// What one `\n`-separated JSON object from the gateway is, found by byte scanning (no JSON
/// parser on the hot path: the gateway's frames have a fixed compact shape, SPEC §5).
enum ServerFrame: Equatable {
    /// `{"type":"event",...}` with the stream id split in two, and the bench payload's `seq`
    /// and `t` (send time, ns) when present.
    case event(idMs: UInt64, idSeq: UInt64, seq: Int64?, sentNs: UInt64?)
    case ping
    case welcome
    case subscribed
    /// `{"type":"response","id":N,...}`.
    case response(id: Int64)
    /// `{"type":"error",...}` with the request id when it has one, and its `error_code`.
    case error(id: Int64?, code: String)
    case other
}

/// Byte-level recognizer for the gateway's frames. Stateless; any thread.
struct FrameScanner {
    private let eventPrefix: [UInt8]

    /// A scanner for events of `topic` (the gateway writes `{"type":"event","topic":T,"id":"`).
    init(topic: String) {
        eventPrefix = Array(#"{"type":"event","topic":""#.utf8) + Array(topic.utf8) + Array(#"","id":""#.utf8)
    }

    private static let seqKey = Array(#""seq":"#.utf8)
    private static let tKey = Array(#""t":"#.utf8)
    private static let typeKeys: [([UInt8], ServerFrame)] = [
        (Array(#""type":"ping""#.utf8), .ping),
        (Array(#""type":"welcome""#.utf8), .welcome),
        (Array(#""type":"subscribed""#.utf8), .subscribed),
    ]
    // The gateway keeps key order (SPEC §5 frames are built in this order): type, id, ...
    private static let responsePrefix = Array(#"{"type":"response","id":"#.utf8)
    private static let errorPrefix = Array(#"{"type":"error","#.utf8)
    private static let idKey = Array(#""id":"#.utf8)
    private static let codeKey = Array(#""error_code":""#.utf8)

    /// Classify one JSON object (without its `\n`).
    func scan(_ line: UnsafeRawBufferPointer) -> ServerFrame {
        if FrameScanner.hasPrefix(line, eventPrefix) {
            var i = eventPrefix.count
            let ms = FrameScanner.digits(line, &i)
            guard i < line.count, line[i] == UInt8(ascii: "-") else { return .other }
            i += 1
            let sq = FrameScanner.digits(line, &i)
            var seq: Int64?
            var sent: UInt64?
            if let at = FrameScanner.find(FrameScanner.seqKey, in: line, from: i) {
                var j = at + FrameScanner.seqKey.count
                seq = Int64(FrameScanner.digits(line, &j))
                i = j
            }
            if let at = FrameScanner.find(FrameScanner.tKey, in: line, from: i) {
                var j = at + FrameScanner.tKey.count
                sent = FrameScanner.digits(line, &j)
            }
            return .event(idMs: ms, idSeq: sq, seq: seq, sentNs: sent)
        }
        if FrameScanner.hasPrefix(line, FrameScanner.responsePrefix) {
            var i = FrameScanner.responsePrefix.count
            return .response(id: FrameScanner.integer(line, &i))
        }
        if FrameScanner.hasPrefix(line, FrameScanner.errorPrefix) { return FrameScanner.error(line) }
        for (key, kind) in FrameScanner.typeKeys where FrameScanner.find(key, in: line, from: 0) != nil {
            return kind
        }
        return .other
    }

    /// An error frame: the `id` before `error_code` (absent when the error answers no request).
    private static func error(_ line: UnsafeRawBufferPointer) -> ServerFrame {
        guard let at = find(codeKey, in: line, from: errorPrefix.count) else { return .error(id: nil, code: "?") }
        var end = at + codeKey.count
        let start = end
        while end < line.count, line[end] != UInt8(ascii: "\"") { end += 1 }
        let code = String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
        var id: Int64?
        if let k = find(idKey, in: UnsafeRawBufferPointer(rebasing: line[0..<at]), from: errorPrefix.count) {
            var i = k + idKey.count
            id = integer(line, &i)
        }
        return .error(id: id, code: code)
    }

    /// A JSON integer from `i` on (advances `i`); -1 when it is not a non-negative integer.
    private static func integer(_ line: UnsafeRawBufferPointer, _ i: inout Int) -> Int64 {
        let start = i
        let value = digits(line, &i)
        return i == start || value > UInt64(Int64.max) ? -1 : Int64(value)
    }

    private static func hasPrefix(_ line: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard line.count >= prefix.count else { return false }
        for k in 0..<prefix.count where line[k] != prefix[k] { return false }
        return true
    }

    /// Decimal digits from `i` on (advances `i`); 0 when there are none.
    private static func digits(_ line: UnsafeRawBufferPointer, _ i: inout Int) -> UInt64 {
        var value: UInt64 = 0
        while i < line.count, line[i] >= 48, line[i] <= 57 {
            value = value &* 10 &+ UInt64(line[i] - 48)
            i += 1
        }
        return value
    }

    /// First offset ≥ `from` where `needle` occurs.
    static func find(_ needle: [UInt8], in line: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard !needle.isEmpty, line.count >= needle.count else { return nil }
        let first = needle[0]
        var i = from
        let last = line.count - needle.count
        outer: while i <= last {
            if line[i] == first {
                for k in 1..<needle.count where line[i + k] != needle[k] { i += 1; continue outer }
                return i
            }
            i += 1
        }
        return nil
    }
}
