import Digests
import XCTest

@testable import Bedrock

/// The backup file format, pure: bytes encoded by `BackupHeader`/`BackupRecord` read back by
/// `BackupParser`, and every kind of damage refused with its own error.
final class BackupFormatTests: XCTestCase {
    private let records = [
        BackupRecord(key: Array("bedrock:account".utf8), pttl: -1, payload: [4] + Array(repeating: 7, count: 30)),
        BackupRecord(key: Array("bedrock:stream:signals".utf8), pttl: -1, payload: [21] + Array(0..<200)),
        BackupRecord(key: Array("bedrock:lease:engine".utf8), pttl: 4_321, payload: [0] + Array(repeating: 1, count: 12)),
        BackupRecord(key: Array("bedrock:empty-ish".utf8) + [0, 255], pttl: 1, payload: Array(repeating: 9, count: 11)),
    ]

    /// A complete file: header, records, SHA-256 of everything before it.
    private func file(version: UInt16 = BackupFormat.version, count: UInt64? = nil) -> [UInt8] {
        let header = BackupHeader(
            version: version, createdAtMillis: 1_780_000_000_123, keyCount: count ?? UInt64(records.count),
            prefix: "bedrock:")
        var bytes = header.encoded()
        for record in records { record.encode(into: &bytes) }
        return bytes + SHA256.digest(bytes)
    }

    /// Feeds `bytes` in chunks of `chunk` and returns every item, then calls `finish`.
    private func parse(_ bytes: [UInt8], chunk: Int) throws -> [BackupParser.Item] {
        let parser = BackupParser()
        var items: [BackupParser.Item] = []
        var offset = 0
        while offset < bytes.count {
            parser.append(bytes[offset..<min(offset + chunk, bytes.count)])
            offset += chunk
            while let item = try parser.next() { items.append(item) }
        }
        try parser.finish()
        return items
    }

    private func error(of bytes: [UInt8], chunk: Int = 7) -> BackupFormatError? {
        do {
            _ = try parse(bytes, chunk: chunk)
            return nil
        } catch let error as BackupFormatError {
            return error
        } catch {
            XCTFail("unexpected error \(error)")
            return nil
        }
    }

    func testRoundTripInAnyChunkSize() throws {
        for chunk in [1, 3, 64, 1 << 20] {
            let items = try parse(file(), chunk: chunk)
            XCTAssertEqual(
                items.first,
                .header(BackupHeader(createdAtMillis: 1_780_000_000_123, keyCount: 4, prefix: "bedrock:")))
            XCTAssertEqual(Array(items.dropFirst()), records.map { .record($0) }, "chunk \(chunk)")
        }
    }

    func testStreamsAreToldByTheirPayloadType() {
        XCTAssertEqual(records.map(\.isStream), [false, true, false, false])
    }

    func testEveryTruncationIsRefusedAsTruncated() {
        let whole = file()
        for length in 0..<whole.count {
            guard case .truncated = error(of: Array(whole[..<length])) else {
                return XCTFail("a file cut at \(length) of \(whole.count) bytes was not refused as truncated")
            }
        }
        XCTAssertEqual(error(of: Array(whole.dropLast(32))), .truncated("the checksum"))
        XCTAssertEqual(error(of: Array(whole[..<40])), .truncated("record 1 of 4"))
    }

    func testAFlippedPayloadByteFailsTheChecksum() {
        var bytes = file()
        bytes[bytes.count - 40] ^= 0x01  // inside the last record's payload
        XCTAssertEqual(error(of: bytes), .checksumMismatch)
        var trailer = file()
        trailer[trailer.count - 1] ^= 0x80
        XCTAssertEqual(error(of: trailer), .checksumMismatch)
    }

    func testWrongVersionAndMagicAndTrailingBytesAreRefused() {
        XCTAssertEqual(error(of: file(version: 2)), .unsupportedVersion(2))
        XCTAssertEqual(error(of: Array("REDIS0011 not a backup at all".utf8)), .notABackup)
        XCTAssertEqual(error(of: file() + [0]), .trailingData)
        XCTAssertEqual(error(of: file(count: 5)), .truncated("record 5 of 5"))
        // One record fewer than the header says: the checksum is read as a record and fails.
        XCTAssertNotNil(error(of: file(count: 3)))
    }

    func testAKeyOutsideThePrefixIsRefused() {
        var bytes = BackupHeader(createdAtMillis: 1, keyCount: 1, prefix: "bedrock:").encoded()
        BackupRecord(key: Array("other:key".utf8), pttl: -1, payload: Array(repeating: 0, count: 11))
            .encode(into: &bytes)
        bytes += SHA256.digest(bytes)
        XCTAssertEqual(error(of: bytes), .malformed("record 1's key is not under the prefix bedrock:"))
    }

    func testTheFileWriterPatchesTheCountAndRenamesWhenDone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.bak").path
        let writer = try BackupFileWriter(
            path: path, header: BackupHeader(createdAtMillis: 1_780_000_000_123, keyCount: 99, prefix: "bedrock:"))
        for record in records { try writer.write(record) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + ".tmp"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        let size = try writer.finish(keyCount: UInt64(records.count))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(file()))
        XCTAssertEqual(size, file().count)
        XCTAssertEqual(try RedisRestore.verify(path: path).keys, 4)
    }
}
