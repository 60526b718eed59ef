import Foundation
import XCTest

@testable import Bedrock
@testable import RedisClient

final class EmbeddedRedisTests: XCTestCase {
    private var dataDir: URL!

    override func setUp() {
        dataDir = URL(fileURLWithPath: "/tmp/bedrock-emb-\(UUID().uuidString.prefix(8))")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: dataDir)
    }

    func testStartsOnUnixSocketWithAOFAndStops() throws {
        let redis = EmbeddedRedis(dataDir: dataDir)
        try redis.start()
        XCTAssertEqual(redis.socketPath, dataDir.appendingPathComponent("redis.sock").path)
        let conn = try RedisConnection(redis.address)
        XCTAssertEqual(try conn.command(["PING"]), .status("PONG"))
        XCTAssertEqual(try conn.command(["CONFIG", "GET", "port"]).array?.last?.string, "0", "no TCP port")
        XCTAssertEqual(try conn.command(["CONFIG", "GET", "appendonly"]).array?.last?.string, "yes")
        let id = try StreamAppend.append(conn, topic: "signals", eventJSON: "{}")
        XCTAssertTrue(FileManager.default.fileExists(atPath: redis.logPath))

        redis.stop()
        XCTAssertFalse(redis.isRunning)
        XCTAssertThrowsError(try RedisConnection(redis.address, connectTimeout: 0.5))

        // Same data directory again: the event survived in the AOF.
        let again = EmbeddedRedis(dataDir: dataDir)
        try again.start()
        defer { again.stop() }
        let conn2 = try RedisConnection(again.address)
        let entries = try conn2.command(["XRANGE", "bedrock:stream:signals", "-", "+"]).array
        XCTAssertEqual(entries?.first?.array?.first?.string, id)
    }

    func testStaleSocketFileIsReplacedAndSecondInstanceRefused() throws {
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(
            atPath: dataDir.appendingPathComponent("redis.sock").path, contents: Data("stale".utf8))
        let redis = EmbeddedRedis(dataDir: dataDir)
        try redis.start()
        defer { redis.stop() }
        XCTAssertEqual(try RedisConnection(redis.address).command(["PING"]), .status("PONG"))
        XCTAssertThrowsError(try EmbeddedRedis(dataDir: dataDir).start()) { error in
            XCTAssertTrue("\(error)".contains("already running"), "\(error)")
        }
    }

    func testMissingRedisServerNamesThePackage() {
        let redis = EmbeddedRedis(dataDir: dataDir)
        XCTAssertThrowsError(try redis.start(searchPath: "")) { error in
            XCTAssertEqual(
                "\(error)",
                "redis-server not found on PATH: install the Debian package redis-server (apt-get install redis-server)")
        }
        XCTAssertFalse(redis.isRunning)
    }

    func testOrphanOfACrashedGatewayIsTakenOver() throws {
        let crashed = EmbeddedRedis(dataDir: dataDir)
        try crashed.start()
        let id = try StreamAppend.append(try RedisConnection(crashed.address), topic: "risk", eventJSON: "{}")
        // Pretend the gateway that started it died: its pid no longer exists.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        try String(gone.processIdentifier).write(toFile: crashed.ownerPath, atomically: true, encoding: .utf8)

        let next = EmbeddedRedis(dataDir: dataDir)
        try next.start()
        defer { next.stop() }
        let deadline = Date().addingTimeInterval(3)
        while crashed.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(crashed.isRunning, "the orphan was shut down")
        let entries = try RedisConnection(next.address).command(["XRANGE", "bedrock:stream:risk", "-", "+"]).array
        XCTAssertEqual(entries?.first?.array?.first?.string, id, "its data survived in the AOF")
        crashed.stop()
        XCTAssertEqual(try RedisConnection(next.address).command(["PING"]), .status("PONG"))
    }
}
