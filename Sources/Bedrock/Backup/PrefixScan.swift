import RedisClient

/// Walks every key under a prefix with `SCAN … MATCH <prefix>* COUNT n` (binary-safe; the
/// prefix's glob characters are escaped). SCAN returns every key that exists for the whole walk;
/// a key may come twice, so callers that count keep them in a set or tolerate repeats.
enum PrefixScan {
    /// The keys per `SCAN` call asked for.
    static let count = 5000

    /// Calls `body` with each page of keys. `before` commands are pipelined ahead of every SCAN
    /// (e.g. renewing a pause); their replies are checked for errors.
    static func forEachPage(
        _ connection: RedisConnection, prefix: String, before: [[[UInt8]]] = [],
        _ body: ([[UInt8]]) throws -> Void
    ) throws {
        let pattern = Array(glob(prefix).utf8) + [UInt8(ascii: "*")]
        var cursor: [UInt8] = Array("0".utf8)
        repeat {
            let scan: [[UInt8]] = [
                Array("SCAN".utf8), cursor, Array("MATCH".utf8), pattern, Array("COUNT".utf8), Array(String(count).utf8),
            ]
            let replies = try connection.pipeline(binary: before + [scan])
            for reply in replies { _ = try reply.checked() }
            guard let page = replies.last?.array, page.count == 2, case .bulk(let next) = page[0],
                let keys = page[1].array
            else { throw BackupRedisError("unexpected SCAN reply \(String(describing: replies.last))") }
            try body(
                keys.compactMap {
                    if case .bulk(let key) = $0 { return key }
                    return nil
                })
            cursor = next
        } while cursor != Array("0".utf8)
    }

    /// `prefix` with Redis glob metacharacters escaped.
    static func glob(_ prefix: String) -> String {
        var out = ""
        for c in prefix {
            if "\\*?[]".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

/// A Redis-side failure of a backup or restore; `description` is one line for the CLI.
public struct BackupRedisError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    init(_ description: String) { self.description = description }
}
