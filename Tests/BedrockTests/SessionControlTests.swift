import Foundation
import RedisClient
import Synchronization
import XCTest

@testable import Bedrock

/// The presence thread against a real Redis: disconnect orders sent while it reconnects are not
/// lost, and an order that revokes closes as a disconnect (4403), before the hash reload.
final class SessionControlTests: RedisTestCase {
    /// The `closeSessions` calls the thread made.
    private final class Calls: Sendable {
        let list = Mutex<[(sub: String, before: Int64?)]>([])
    }

    private let calls = Calls()
    private var control: SessionControl!
    private let store = PresenceStore(prefix: "t:")
    private let revocations = Revocations()

    override func setUpWithError() throws {
        try super.setUpWithError()
        control = SessionControl(
            gatewayID: "gw-test", address: redis.address, store: store, book: PresenceBook(maxPerUser: 10),
            revocations: revocations, ttl: 15
        ) { [calls] sub, before in calls.list.withLock { $0.append((sub, before)) } }
    }

    override func tearDown() {
        control?.stop()
        control = nil
        super.tearDown()
    }

    private func eventually(_ what: String, timeout: Double = 5, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            guard Date() < deadline else { return XCTFail("timed out waiting for \(what)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    private func closed(_ sub: String) -> [Int64?] { calls.list.withLock { $0.filter { $0.sub == sub }.map(\.before) } }

    func testAnOrderSentWhileTheThreadReconnectsIsNotLost() throws {
        try store.disconnect(SessionOrder(sub: "old", revokedMillis: nil), on: conn)  // before start: not replayed
        control.start()
        try eventually("the first publication") {
            try conn.command(["ZSCORE", store.gatewaysKey, "gw-test"]).checked().string != nil
        }
        _ = try conn.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]).checked()
        try store.disconnect(SessionOrder(sub: "alice", revokedMillis: nil), on: conn)
        try eventually("alice's order") { closed("alice") == [nil] }
        XCTAssertEqual(closed("old"), [], "an order older than the start is not replayed")
    }

    func testARevokingOrderClosesAsADisconnectAndTheVersionTriggersTheReload() throws {
        control.start()
        try eventually("the first publication") {
            try conn.command(["ZSCORE", store.gatewaysKey, "gw-test"]).checked().string != nil
        }
        try store.disconnect(SessionOrder(sub: "alice", revokedMillis: 5_000), on: conn)
        try eventually("alice's order") { closed("alice") == [nil] }
        XCTAssertNotNil(revocations.refusal(for: Identity(subject: "alice", role: .trader, expiresAt: 9e9, issuedAt: 4)))
        // A hand edit that bumps the version is loaded at the next check (within a second).
        _ = try conn.pipeline([["HSET", store.revokedKey, "bob", "7000"], ["INCR", store.revokedVersionKey]])
        try eventually("bob's revocation") { closed("bob") == [7_000] }
        XCTAssertEqual(closed("alice"), [nil], "alice was closed once, by her order (4403), not again by the reload")
    }
}
