import Digests

/// Reads a backup file incrementally (pure: the caller brings the bytes): `append` each chunk as
/// it is read, take items with `next()` until it answers nil, and call `finish()` at the end of
/// the file. Memory stays at one chunk plus one record.
///
/// Checks, in file order: the magic, the version (before anything else is read, since another
/// version may be laid out differently), each field's length, that every key is under the
/// header's prefix, that exactly `keyCount` records come, the SHA-256 of everything before the
/// trailer, and that nothing follows it. The checksum is verified only at the end: a caller that
/// must not act on a corrupt file reads it once to the end first (as `bedrock restore` does).
///
/// Used by one thread at a time.
public final class BackupParser {
    /// What the file holds, in order: one header, then the records.
    public enum Item: Equatable {
        case header(BackupHeader)
        case record(BackupRecord)
    }

    private var buffer: [UInt8] = []
    private var position = 0
    private let hasher = SHA256.Hasher()
    private var prefixBytes: [UInt8] = []
    /// The header, once read.
    public private(set) var header: BackupHeader?
    /// Records returned so far.
    public private(set) var recordsRead: UInt64 = 0
    /// True once the trailer matched.
    public private(set) var verified = false

    /// A parser at the start of a file.
    public init() {}

    /// Adds the next bytes of the file.
    public func append(_ bytes: some Collection<UInt8>) {
        if position > 0, position >= buffer.count / 2 {
            buffer.removeFirst(position)
            position = 0
        }
        buffer += bytes
    }

    private var available: Int { buffer.count - position }

    /// The next item, or nil when more bytes are needed (or the file is complete and verified).
    public func next() throws(BackupFormatError) -> Item? {
        guard let header else { return try readHeader().map { .header($0) } }
        if recordsRead < header.keyCount { return try readRecord().map { .record($0) } }
        if !verified {
            guard available >= BackupFormat.checksumLength else { return nil }
            let stored = Array(buffer[position..<position + BackupFormat.checksumLength])
            position += BackupFormat.checksumLength
            guard stored == hasher.finalize() else { throw .checksumMismatch }
            verified = true
        }
        if available > 0 { throw .trailingData }
        return nil
    }

    /// At the end of the file: throws unless the whole file was read and verified.
    public func finish() throws(BackupFormatError) {
        if available > 0, verified { throw .trailingData }
        guard let header else {
            if available >= BackupFormat.magic.count, Array(buffer[position..<position + 8]) != BackupFormat.magic {
                throw .notABackup
            }
            throw .truncated("the header")
        }
        if recordsRead < header.keyCount {
            throw .truncated("record \(recordsRead + 1) of \(header.keyCount)")
        }
        if !verified { throw .truncated("the checksum") }
    }

    private func readHeader() throws(BackupFormatError) -> BackupHeader? {
        let magicLength = BackupFormat.magic.count
        guard available >= magicLength else { return nil }
        guard Array(buffer[position..<position + magicLength]) == BackupFormat.magic else { throw .notABackup }
        guard available >= magicLength + 2 else { return nil }
        let version = UInt16(integer(at: position + magicLength, size: 2))
        guard version == BackupFormat.version else { throw .unsupportedVersion(version) }
        let fixed = magicLength + 2 + 8 + 8 + 2
        guard available >= fixed else { return nil }
        let prefixLength = Int(integer(at: position + fixed - 2, size: 2))
        guard available >= fixed + prefixLength else { return nil }
        let prefixStart = position + fixed
        prefixBytes = Array(buffer[prefixStart..<prefixStart + prefixLength])
        guard let prefix = String(validating: prefixBytes, as: UTF8.self) else {
            throw .malformed("the key prefix is not UTF-8")
        }
        let header = BackupHeader(
            version: version, createdAtMillis: integer(at: position + magicLength + 2, size: 8),
            keyCount: integer(at: position + BackupFormat.keyCountOffset, size: 8), prefix: prefix)
        consume(fixed + prefixLength)
        self.header = header
        return header
    }

    private func readRecord() throws(BackupFormatError) -> BackupRecord? {
        guard available >= 4 else { return nil }
        let keyLength = Int(integer(at: position, size: 4))
        guard available >= 4 + keyLength + 8 + 4 else { return nil }
        let payloadLength = Int(integer(at: position + 4 + keyLength + 8, size: 4))
        let total = 4 + keyLength + 8 + 4 + payloadLength
        guard available >= total else { return nil }
        let key = Array(buffer[position + 4..<position + 4 + keyLength])
        let number = recordsRead + 1
        guard key.starts(with: prefixBytes) else {
            throw .malformed("record \(number)'s key is not under the prefix \(header?.prefix ?? "")")
        }
        let pttl = Int64(bitPattern: integer(at: position + 4 + keyLength, size: 8))
        guard pttl == -1 || pttl > 0 else { throw .malformed("record \(number) has time to live \(pttl)") }
        // A DUMP payload is at least its type byte, a 2-byte RDB version and an 8-byte CRC.
        guard payloadLength >= 11 else { throw .malformed("record \(number)'s payload is \(payloadLength) bytes") }
        let payloadStart = position + total - payloadLength
        let payload = Array(buffer[payloadStart..<payloadStart + payloadLength])
        consume(total)
        recordsRead += 1
        return BackupRecord(key: key, pttl: pttl, payload: payload)
    }

    /// Hashes and skips the next `count` bytes.
    private func consume(_ count: Int) {
        buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[position..<position + count])) }
        position += count
    }

    /// The big-endian unsigned integer of `size` bytes at `offset`.
    private func integer(at offset: Int, size: Int) -> UInt64 {
        buffer.withUnsafeBytes { raw in
            var value: UInt64 = 0
            for i in offset..<offset + size { value = value << 8 | UInt64(raw[i]) }
            return value
        }
    }
}
