import Foundation
import RedisClient
import XCTest

@testable import Bedrock

/// `RedisSnapshot` and `RedisRestore` against real redis-servers: every type of key under the
/// prefix comes back as it was (streams with their ids and consumer groups, time to live), keys
/// outside the prefix stay out, and writers are released when the snapshot ends.
final class BackupRedisTests: RedisTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
        super.tearDown()
    }

    private func run(_ args: [String], on connection: RedisConnection) throws -> RedisReply {
        try connection.command(args).checked()
    }

    private func fill(_ c: RedisConnection) throws {
        _ = try run(["HSET", "bedrock:account", "balance", "100000.00000000", "initial_balance", "100000"], on: c)
        _ = try run(["ZADD", "bedrock:positions:index", "1", "1", "2", "2"], on: c)
        _ = try run(["SADD", "bedrock:set", "a", "b"], on: c)
        _ = try run(["RPUSH", "bedrock:list", "x", "y"], on: c)
        _ = try run(["SET", "bedrock:lease", "gw-1", "PX", "600000"], on: c)
        _ = try run(["XADD", "bedrock:stream:portfolio", "1700000000000-0", "event", "{\"a\":1}"], on: c)
        _ = try run(["XADD", "bedrock:stream:portfolio", "1700000000000-5", "event", "{\"a\":2}"], on: c)
        _ = try run(["XGROUP", "CREATE", "bedrock:stream:portfolio", "engine", "0"], on: c)
        _ = try run(["XREADGROUP", "GROUP", "engine", "c1", "COUNT", "1", "STREAMS", "bedrock:stream:portfolio", ">"], on: c)
        _ = try run(["SET", "other:key", "not ours"], on: c)
    }

    func testARoundTripKeepsEveryKeyStreamIdsGroupsAndTTL() throws {
        try fill(conn)
        let path = directory.appendingPathComponent("b.bak").path
        let taken = try RedisSnapshot.take(connection: conn, prefix: "bedrock:", to: path, batchSize: 2)
        XCTAssertEqual(taken.keys, 6)
        XCTAssertEqual(taken.streams, 1)
        XCTAssertEqual(taken.expired, 0)

        // Writers are released: a write on another connection goes through at once.
        let other = try redis.connect()
        XCTAssertEqual(try run(["SET", "bedrock:after", "1"], on: other), .status("OK"))

        let target = try RedisTestServer()
        let t = try target.connect()
        XCTAssertEqual(try RedisRestore.countKeys(t, prefix: "bedrock:"), 0)
        let summary = try RedisRestore.load(path: path, into: t, replace: false)
        XCTAssertEqual(summary.keys, 6)
        XCTAssertEqual(summary.header.prefix, "bedrock:")

        for key in ["bedrock:account", "bedrock:positions:index", "bedrock:list"] {
            XCTAssertEqual(try run(["DUMP", key], on: t), try run(["DUMP", key], on: conn), key)
        }
        // A set's DUMP follows its hash table's order, which differs between servers.
        XCTAssertEqual(
            try run(["SMISMEMBER", "bedrock:set", "a", "b", "c"], on: t), .array([.integer(1), .integer(1), .integer(0)]))
        XCTAssertEqual(
            try run(["XRANGE", "bedrock:stream:portfolio", "-", "+"], on: t),
            try run(["XRANGE", "bedrock:stream:portfolio", "-", "+"], on: conn))
        XCTAssertEqual(
            try run(["XINFO", "STREAM", "bedrock:stream:portfolio"], on: t).array?.prefix(6),
            try run(["XINFO", "STREAM", "bedrock:stream:portfolio"], on: conn).array?.prefix(6))
        XCTAssertEqual(
            try run(["XPENDING", "bedrock:stream:portfolio", "engine"], on: t),
            try run(["XPENDING", "bedrock:stream:portfolio", "engine"], on: conn), "the group and its pending entry")
        let ttl = try XCTUnwrap(run(["PTTL", "bedrock:lease"], on: t).integer)
        XCTAssertTrue(ttl > 590_000 && ttl <= 600_000, "time to live kept: \(ttl)")
        XCTAssertEqual(try run(["TTL", "bedrock:account"], on: t), .integer(-1))
        XCTAssertEqual(try run(["EXISTS", "other:key", "bedrock:after"], on: t), .integer(0))

        // A second load without REPLACE is refused by Redis and says which key.
        XCTAssertThrowsError(try RedisRestore.load(path: path, into: t, replace: false)) {
            XCTAssertTrue("\($0)".contains("BUSYKEY"), "\($0)")
        }
        XCTAssertEqual(try RedisRestore.countKeys(t, prefix: "bedrock:"), 6)
        XCTAssertEqual(try RedisRestore.deleteKeys(t, prefix: "bedrock:"), 6)
        XCTAssertEqual(try RedisRestore.countKeys(t, prefix: "bedrock:"), 0)
    }

    func testThePauseHoldsWritersUntilTheSnapshotEnds() throws {
        try fill(conn)
        // Pause as the snapshot does; a writer's XADD waits, a reader's GET does not.
        _ = try run(["CLIENT", "PAUSE", "5000", "WRITE"], on: conn)
        let writer = try redis.connect()
        let began = ContinuousClock.now
        XCTAssertEqual(try run(["GET", "bedrock:lease"], on: writer), .bulk(Array("gw-1".utf8)))
        try writer.append(["XADD", "bedrock:stream:portfolio", "*", "event", "{}"])
        try writer.flush()
        XCTAssertNil(try writer.nextReply(timeoutMillis: 300), "the write waits while paused")
        let path = directory.appendingPathComponent("b.bak").path
        let taken = try RedisSnapshot.take(connection: conn, prefix: "bedrock:", to: path)
        XCTAssertNotNil(try writer.nextReply(timeoutMillis: 2000), "released by the snapshot's UNPAUSE")
        XCTAssertLessThan(ContinuousClock.now - began, .seconds(4), "not by the pause's timeout")
        XCTAssertEqual(try RedisRestore.verify(path: path).keys, taken.keys)
    }

    func testAReplicaIsRefused() throws {
        let replica = try RedisTestServer()
        let r = try replica.connect()
        _ = try run(["REPLICAOF", "127.0.0.1", String(redis.port)], on: r)
        let path = directory.appendingPathComponent("b.bak").path
        XCTAssertThrowsError(try RedisSnapshot.take(connection: r, prefix: "bedrock:", to: path)) {
            XCTAssertTrue("\($0)".contains("is a replica"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    func testGlobCharactersInThePrefixAreMatchedLiterally() throws {
        _ = try run(["SET", "b*x:one", "1"], on: conn)
        _ = try run(["SET", "bzx:two", "2"], on: conn)
        XCTAssertEqual(try RedisRestore.countKeys(conn, prefix: "b*x:"), 1)
    }
}
