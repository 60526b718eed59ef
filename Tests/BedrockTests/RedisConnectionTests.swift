import Foundation
import RedisClient
import XCTest

@testable import Bedrock

final class RedisConnectionTests: XCTestCase {
    func testRepliesAreCopiedIntoSwiftValues() throws {
        let redis = try RedisTestServer()
        let conn = try redis.connect()
        XCTAssertEqual(try conn.command(["SET", "k", "v"]), .status("OK"))
        XCTAssertEqual(try conn.command(["GET", "k"]), .bulk(Array("v".utf8)))
        XCTAssertEqual(try conn.command(["GET", "missing"]), .null)
        XCTAssertEqual(try conn.command(["INCRBY", "n", "41"]), .integer(41))
        XCTAssertEqual(try conn.command(["RPUSH", "l", "a", "b"]).integer, 2)
        XCTAssertEqual(try conn.command(["LRANGE", "l", "0", "-1"]), .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
        let error = try conn.command(["INCR", "k"])
        guard case .error(let message) = error else { return XCTFail("\(error)") }
        XCTAssertTrue(message.contains("not an integer"))
        XCTAssertThrowsError(try error.checked())
        XCTAssertFalse(conn.isBroken, "an error reply leaves the connection usable")
        XCTAssertEqual(try conn.command(["PING"]), .status("PONG"))
    }

    func testBinarySafeArguments() throws {
        let redis = try RedisTestServer()
        let conn = try redis.connect()
        let value: [UInt8] = [0, 1, 0xff, 10, 13, 0]
        _ = try conn.command(binary: [Array("SET".utf8), [0x6b, 0], value]).checked()
        XCTAssertEqual(try conn.command(binary: [Array("GET".utf8), [0x6b, 0]]), .bulk(value))
        XCTAssertEqual(try conn.command(["GET", "k"]), .null, "the NUL is part of the key")
    }

    func testPasswordAndDatabaseAreApplied() throws {
        let redis = try RedisTestServer(password: "s3cret-pass")
        var address = redis.address
        address.db = 3
        let conn = try RedisConnection(address)
        _ = try conn.command(["SET", "where", "db3"]).checked()
        address.db = 0
        XCTAssertEqual(try RedisConnection(address).command(["GET", "where"]), .null)

        address.password = "xyzzy-guess"
        XCTAssertThrowsError(try RedisConnection(address)) { error in
            guard case RedisError.connect(let message) = error else { return XCTFail("\(error)") }
            XCTAssertFalse(message.contains("xyzzy"), "the password never appears in errors")
        }
        address.password = nil
        let anonymous = try RedisConnection(address)
        XCTAssertThrowsError(try anonymous.command(["GET", "where"]).checked())
    }

    func testReadTimeoutStopsABlockingCommand() throws {
        let redis = try RedisTestServer()
        let conn = try RedisConnection(redis.address, readTimeout: 0.3)
        let started = Date()
        XCTAssertThrowsError(try conn.command(["BLPOP", "nothing", "5"])) { error in
            XCTAssertEqual(error as? RedisError, .io("read timed out"))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertTrue(conn.isBroken)
        XCTAssertThrowsError(try conn.command(["PING"]))
    }

    func testConnectFailureIsAConnectError() throws {
        let port = try RedisTestServer.freePort()
        XCTAssertThrowsError(try RedisConnection(RedisAddress(host: "127.0.0.1", port: port))) { error in
            guard case RedisError.connect = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try RedisConnection(RedisAddress(unixPath: "/nonexistent/redis.sock")))
    }

    func testEndpointMapping() {
        XCTAssertNil(RedisAddress(RedisEndpoint.embedded))
        XCTAssertEqual(
            RedisAddress(.tcp(host: "h", port: 1, password: "p", db: 2)),
            RedisAddress(host: "h", port: 1, password: "p", db: 2))
        XCTAssertEqual(RedisAddress(.unix(path: "/s", password: nil, db: 0)), RedisAddress(unixPath: "/s"))
    }
}
