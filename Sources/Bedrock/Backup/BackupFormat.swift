/// The `bedrock backup` file format (docs/ops/BACKUP.md), version 1. Pure: bytes in, bytes out,
/// no I/O. Integers are big-endian.
///
/// ```
/// header   magic "BRBACKUP" (8) · version u16 · created_at u64 (Unix ms) · key count u64 ·
///          prefix length u16 · prefix (UTF-8)
/// record   key length u32 · key · pttl i64 (-1: no expiry, else ms left) ·
///          payload length u32 · payload (the key's DUMP, which carries its own RDB version and CRC)
///          … exactly `key count` records …
/// trailer  SHA-256 (32 bytes) of every byte before it
/// ```
public enum BackupFormat {
    /// The first 8 bytes of every backup file.
    public static let magic: [UInt8] = Array("BRBACKUP".utf8)
    /// The version this build writes and the only one it reads.
    public static let version: UInt16 = 1
    /// Where the key count sits in the header (the writer fills it in once the snapshot is done).
    public static let keyCountOffset = 8 + 2 + 8
    /// Length of the trailing checksum.
    public static let checksumLength = 32
    /// The largest key or payload a record holds (its length field is 32 bits).
    public static let maxFieldLength = Int(UInt32.max)
}

/// The header of a backup file.
public struct BackupHeader: Sendable, Equatable {
    /// The format version (`BackupFormat.version` when written by this build).
    public var version: UInt16
    /// When the snapshot was taken, Unix milliseconds.
    public var createdAtMillis: UInt64
    /// How many records follow.
    public var keyCount: UInt64
    /// The key prefix (`redis.prefix`) every record's key starts with.
    public var prefix: String

    /// A header of the current version.
    public init(version: UInt16 = BackupFormat.version, createdAtMillis: UInt64, keyCount: UInt64, prefix: String) {
        self.version = version
        self.createdAtMillis = createdAtMillis
        self.keyCount = keyCount
        self.prefix = prefix
    }

    /// The header's bytes.
    public func encoded() -> [UInt8] {
        var out = BackupFormat.magic
        out.appendBigEndian(version)
        out.appendBigEndian(createdAtMillis)
        out.appendBigEndian(keyCount)
        let prefixBytes = Array(prefix.utf8)
        out.appendBigEndian(UInt16(prefixBytes.count))
        out += prefixBytes
        return out
    }
}

/// One key of a backup: its name, time to live and `DUMP` payload.
public struct BackupRecord: Sendable, Equatable {
    /// The full key name, prefix included (binary-safe).
    public var key: [UInt8]
    /// Milliseconds left to live when the snapshot was taken; -1: no expiry.
    public var pttl: Int64
    /// The `DUMP` payload (type byte, serialized value, RDB version, CRC64).
    public var payload: [UInt8]

    /// A record.
    public init(key: [UInt8], pttl: Int64, payload: [UInt8]) {
        self.key = key
        self.pttl = pttl
        self.payload = payload
    }

    /// True when the payload is a stream (RDB types 15, 19 and 21: listpacks versions 1–3).
    public var isStream: Bool {
        guard let type = payload.first else { return false }
        return type == 15 || type == 19 || type == 21
    }

    /// Appends the record's bytes to `out`.
    public func encode(into out: inout [UInt8]) {
        out.appendBigEndian(UInt32(key.count))
        out += key
        out.appendBigEndian(UInt64(bitPattern: pttl))
        out.appendBigEndian(UInt32(payload.count))
        out += payload
    }
}

/// Why a file is not a backup this build can restore. `description` is one line for the CLI.
public enum BackupFormatError: Error, Equatable, CustomStringConvertible {
    /// The file does not start with the magic.
    case notABackup
    /// A version this build does not read.
    case unsupportedVersion(UInt16)
    /// The file ends before `what` is complete.
    case truncated(String)
    /// The trailing SHA-256 does not match the content.
    case checksumMismatch
    /// Bytes after the checksum.
    case trailingData
    /// A structurally wrong field.
    case malformed(String)

    /// One line naming the problem.
    public var description: String {
        switch self {
        case .notABackup: return "not a bedrock backup file (no BRBACKUP magic)"
        case .unsupportedVersion(let v):
            return "backup format version \(v) is not supported (this bedrock reads version \(BackupFormat.version))"
        case .truncated(let what): return "the file is truncated (it ends inside \(what))"
        case .checksumMismatch: return "checksum mismatch: the file is corrupt"
        case .trailingData: return "unexpected bytes after the checksum: the file is corrupt"
        case .malformed(let why): return "malformed backup: \(why)"
        }
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var be = value.bigEndian
        Swift.withUnsafeBytes(of: &be) { append(contentsOf: $0) }
    }
}
