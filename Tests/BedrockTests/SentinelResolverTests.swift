import Foundation
import RedisClient
import XCTest

@testable import Bedrock

/// The Sentinel resolver against real processes: a master (`RedisTestServer`), one
/// `redis-sentinel` (Debian `redis-sentinel`) and, for the failover, a replica, each on a free
/// port in a temp directory.
final class SentinelResolverTests: XCTestCase {
    private var master: RedisTestServer!
    private var processes: [Process] = []
    private var directory: URL!
    private var replicaPort = 0
    private var sentinelPort = 0

    override func setUpWithError() throws {
        master = try RedisTestServer()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bedrock-sentinel-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        sentinelPort = try RedisTestServer.freePort()
        let config = directory.appendingPathComponent("sentinel.conf")
        try """
        port \(sentinelPort)
        bind 127.0.0.1
        dir \(directory.path)
        sentinel monitor bedrock 127.0.0.1 \(master.port) 1
        sentinel down-after-milliseconds bedrock 1000

        """.write(to: config, atomically: true, encoding: .utf8)
        try launch("/usr/bin/redis-sentinel", [config.path])
        try waitFor("the Sentinel to answer") {
            try RedisConnection(RedisAddress(host: "127.0.0.1", port: self.sentinelPort)).command(["PING"]) == .status("PONG")
        }
    }

    /// Starts a replica of the master and waits until it is in sync and the Sentinel knows it.
    private func startReplica() throws {
        replicaPort = try RedisTestServer.freePort()
        try launch(
            try EmbeddedRedis.locateServer(),
            [
                "--port", String(replicaPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory.path, "--replicaof", "127.0.0.1", String(master.port),
            ])
        try waitFor("the replica to sync") {
            let info = try RedisConnection(RedisAddress(host: "127.0.0.1", port: self.replicaPort)).command([
                "INFO", "replication",
            ])
            return info.string?.contains("master_link_status:up") == true
        }
        try waitFor("the Sentinel to see the replica") {
            let reply = try RedisConnection(RedisAddress(host: "127.0.0.1", port: self.sentinelPort))
                .command(["SENTINEL", "REPLICAS", "bedrock"])
            return reply.array?.count == 1
        }
    }

    override func tearDown() {
        for p in processes where p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
        master = nil
        try? FileManager.default.removeItem(at: directory)
    }

    private func launch(_ path: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        processes.append(p)
    }

    private func waitFor(_ what: String, timeout: Double = 15, _ check: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? check()) == true { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what)")
        throw RedisError.io("timed out waiting for \(what)")
    }

    private func service(_ ports: [Int], master name: String = "bedrock") -> SentinelService {
        SentinelService(sentinels: ports.map { .init(host: "127.0.0.1", port: $0) }, masterName: name)
    }

    func testResolvesTheMasterSkippingASentinelThatIsDown() throws {
        let down = try RedisTestServer.freePort()
        let service = service([down, sentinelPort])
        let connection = try RedisConnection(RedisAddress(sentinel: service, db: 2))
        XCTAssertEqual(connection.server, RedisAddress(host: "127.0.0.1", port: master.port, db: 2))
        XCTAssertEqual(try connection.command(["SET", "k", "v"]).checked(), .status("OK"))
        XCTAssertEqual(service.watch.master, .init(host: "127.0.0.1", port: master.port))
        XCTAssertEqual(service.watch.failovers, 0)
    }

    func testUnknownMasterNameIsAConnectErrorSayingWhy() throws {
        XCTAssertThrowsError(try RedisConnection(RedisAddress(sentinel: service([sentinelPort], master: "nope")))) {
            guard case RedisError.connect(let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("does not monitor a master named nope"), message)
        }
    }

    func testAfterAFailoverOldConnectionsBreakAndNewOnesReachTheNewMaster() throws {
        try startReplica()
        let service = service([sentinelPort])
        let address = RedisAddress(sentinel: service)
        let pool = RedisPool(address: address)
        pool.prewarm(2)
        let old = try RedisConnection(address)
        // Refused with NOGOODSLAVE until the Sentinel has heard from the replica: ask until accepted.
        try waitFor("the Sentinel to accept a failover") {
            let sentinel = try RedisConnection(RedisAddress(host: "127.0.0.1", port: self.sentinelPort))
            return try sentinel.command(["SENTINEL", "FAILOVER", "bedrock"]) == .status("OK")
        }
        try waitFor("the replica to be promoted") {
            try RedisConnection(address).server == RedisAddress(host: "127.0.0.1", port: self.replicaPort)
        }
        XCTAssertEqual(service.watch.failovers, 1)
        // What the Sentinel does to the old master when it sees it again, done now: it becomes a
        // replica of the new one, and a write on a connection still open to it is refused
        // (READONLY), which breaks that connection, so its owner reconnects.
        _ = try master.connect().command(["REPLICAOF", "127.0.0.1", String(replicaPort)]).checked()
        guard case .error(let refusal) = try old.command(["SET", "k", "v"]) else { return XCTFail("the write was accepted") }
        XCTAssertTrue(refusal.hasPrefix("READONLY"), refusal)
        XCTAssertTrue(old.isBroken)
        // Pooled connections follow: at most the idle ones fail once, then every call lands on the new master.
        var landed = false
        for _ in 0..<4 where !landed {
            landed = (try? pool.with { try $0.command(["SET", "k", "v"]).checked() }) == .status("OK")
        }
        XCTAssertTrue(landed)
        XCTAssertTrue(RedisError.server("READONLY You can't write against a read only replica.").breaksConnection)
        XCTAssertFalse(RedisError.server("ERR wrong number of arguments").breaksConnection)
    }
}
