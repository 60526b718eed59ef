import Digests
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a backup file (`BackupFormat`) safely: everything goes to `<path>.tmp`, which is
/// flushed to disk and renamed over `path` only when complete, so `path` is always either the
/// previous backup or the new one, never half of one.
///
/// The key count is known only when the snapshot ends (a key may expire while it runs), so the
/// header is written with the count the caller expects and patched by `finish`, which then reads
/// the file back once to compute the checksum (from the page cache: a fraction of a second per
/// 100 MB). Owns its file descriptor; used by one thread at a time.
public final class BackupFileWriter {
    /// The final path.
    public let path: String
    /// `<path>.tmp` while writing.
    public var temporaryPath: String { path + ".tmp" }
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let header: BackupHeader
    /// Bytes written so far (header and records).
    public private(set) var bytesWritten = 0

    /// Creates `<path>.tmp` (replacing a leftover one) and writes the header.
    public init(path: String, header: BackupHeader) throws(BackupFileError) {
        self.path = path
        self.header = header
        fd = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot create \(path).tmp: \(String(cString: strerror(errno)))") }
        buffer.reserveCapacity(Self.chunk + 65_536)
        buffer += header.encoded()
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporaryPath)
        }
    }

    private static let chunk = 1 << 20

    /// Appends one record.
    public func write(_ record: BackupRecord) throws(BackupFileError) {
        guard record.key.count <= BackupFormat.maxFieldLength, record.payload.count <= BackupFormat.maxFieldLength else {
            throw .io("key \(String(decoding: record.key, as: UTF8.self)) is too large for a backup record")
        }
        record.encode(into: &buffer)
        if buffer.count >= Self.chunk { try flush() }
    }

    private func flush() throws(BackupFileError) {
        try writeAll(buffer)
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8]) throws(BackupFileError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("writing \(temporaryPath): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Sets the header's key count to `keyCount`, appends the checksum, flushes the file to disk
    /// and renames it to `path`. Returns the file's size.
    public func finish(keyCount: UInt64) throws(BackupFileError) -> Int {
        try flush()
        var count = [UInt8]()
        count.appendBigEndian(keyCount)
        let patched = count.withUnsafeBytes { pwrite(fd, $0.baseAddress, 8, off_t(BackupFormat.keyCountOffset)) }
        guard patched == 8 else { throw .io("writing \(temporaryPath): \(String(cString: strerror(errno)))") }
        let digest = try checksumOfTemporaryFile()
        try writeAll(digest)
        bytesWritten += digest.count
        guard fsync(fd) == 0 else { throw .io("flushing \(temporaryPath): \(String(cString: strerror(errno)))") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw .io("cannot rename \(temporaryPath) to \(path): \(reason)")
        }
        Self.syncDirectory(of: path)
        return bytesWritten
    }

    private func checksumOfTemporaryFile() throws(BackupFileError) -> [UInt8] {
        let reader = open(temporaryPath, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw .io("reading \(temporaryPath): \(String(cString: strerror(errno)))") }
        defer { close(reader) }
        let hasher = SHA256.Hasher()
        var chunk = [UInt8](repeating: 0, count: Self.chunk)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(reader, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw .io("reading \(temporaryPath): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalize()
    }

    /// Makes the rename durable (best effort: some file systems refuse fsync on a directory).
    private static func syncDirectory(of path: String) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let dfd = open(directory, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}

/// Reads a backup file through `BackupParser`, one chunk at a time.
public enum BackupFileReader {
    /// Reads the whole file, calling `body` with the header and then each record in order.
    /// Throws `BackupFileError.format` when the file is not a complete, intact backup of the
    /// supported version — after `body` has seen the records before the problem, so a caller
    /// that must not act on a bad file reads it once with a body that only looks.
    public static func read(
        path: String, body: (BackupParser.Item) throws -> Void
    ) throws -> BackupHeader {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupFileError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let parser = BackupParser()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while true {
                let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else { throw BackupFileError.io("reading \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                parser.append(chunk[0..<n])
                while let item = try parser.next() { try body(item) }
            }
            try parser.finish()
        } catch let error as BackupFormatError {
            throw BackupFileError.format(error)
        }
        guard let header = parser.header else { throw BackupFileError.format(.truncated("the header")) }
        return header
    }
}

/// A backup file that cannot be written or read. `description` is one line for the CLI.
public enum BackupFileError: Error, CustomStringConvertible {
    /// A file-system failure.
    case io(String)
    /// The content is not a valid backup.
    case format(BackupFormatError)

    /// One line.
    public var description: String {
        switch self {
        case .io(let message): return message
        case .format(let error): return error.description
        }
    }
}

/// `read(2)`, named apart from the members called `read`/`write` here.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }

/// `write(2)`, named apart from `BackupFileWriter.write(_:)`.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
