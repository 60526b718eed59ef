import JSONCodec
import JWTAuth
import XCTest

@testable import Bedrock

/// The presence bookkeeping without sockets or Redis: the per-user limit, topic counts, the
/// published summary (encoded, read back, merged over gateways, answered) and revocations.
final class PresenceBookTests: XCTestCase {
    private func key(_ loop: Int, _ serial: UInt64) -> PresenceKey { PresenceKey(loop: loop, serial: serial) }

    func testTheUserLimitCountsEveryLoopAndFreesOnClose() {
        let book = PresenceBook(maxPerUser: 2)
        XCTAssertTrue(book.opened(key(0, 1), sub: "alice", role: .trader, sinceMillis: 10))
        XCTAssertTrue(book.opened(key(1, 1), sub: "alice", role: .trader, sinceMillis: 20))
        XCTAssertFalse(book.admits("alice"))
        XCTAssertFalse(book.opened(key(2, 7), sub: "alice", role: .trader, sinceMillis: 30), "a third on another loop")
        XCTAssertTrue(book.opened(key(2, 8), sub: "bob", role: .viewer, sinceMillis: 30), "another user is not held back")
        XCTAssertEqual(book.connections(of: "alice"), 2)
        book.closed(key(0, 1))
        XCTAssertTrue(book.admits("alice"))
        book.closed(key(2, 7))  // never counted: nothing changes
        XCTAssertEqual(book.connections(of: "alice"), 1)
        XCTAssertEqual(book.metricsSample().users, 2)
    }

    func testTopicCountsFollowSubscriptionsAndCloses() {
        let book = PresenceBook(maxPerUser: 10)
        _ = book.opened(key(0, 1), sub: "alice", role: .trader, sinceMillis: 1)
        _ = book.opened(key(0, 2), sub: "bob", role: .viewer, sinceMillis: 2)
        book.subscribed(key(0, 1), topic: "signals")
        book.subscribed(key(0, 1), topic: "signals")  // twice: counted once
        book.subscribed(key(0, 1), topic: "klines:BTCUSDT:1m")
        book.subscribed(key(0, 2), topic: "klines:ETHUSDT:5m")
        book.subscribed(key(0, 9), topic: "risk")  // not an authenticated connection: ignored
        XCTAssertEqual(book.metricsSample().topics, ["signals": 1, "klines": 2])
        let version = book.version
        book.unsubscribed(key(0, 1), topic: "signals")
        XCTAssertGreaterThan(book.version, version)
        book.closed(key(0, 2))
        XCTAssertEqual(book.metricsSample().topics, ["signals": 0, "klines": 1], "a topic seen stays, at 0")
        XCTAssertEqual(book.metricsSample().users, 1)
    }

    func testTheSummaryGroupsByUserAndTopicAndSurvivesEncoding() throws {
        let book = PresenceBook(maxPerUser: 10)
        _ = book.opened(key(0, 1), sub: "alice", role: .viewer, sinceMillis: 5_000)
        _ = book.opened(key(1, 1), sub: "alice", role: .admin, sinceMillis: 3_000)
        _ = book.opened(key(1, 2), sub: "bob \"quoted\"", role: .trader, sinceMillis: 4_000)
        book.subscribed(key(0, 1), topic: "signals")
        book.subscribed(key(1, 2), topic: "signals")
        let summary = book.summary()
        XCTAssertEqual(summary.users["alice"], PresenceSummary.User(role: .admin, connections: 2, sinceMillis: 3_000))
        XCTAssertEqual(summary.topics["signals"], ["alice": 1, "bob \"quoted\"": 1])
        XCTAssertEqual(PresenceSummary(encoded: summary.encoded()), summary)
        XCTAssertNil(PresenceSummary(encoded: Array(#"{"users":[["x"]]}"#.utf8)), "not a summary")
    }

    func testTwoGatewaysMergeIntoOneAnswerAndTheTopicFilterCountsOnlySubscribers() throws {
        var a = PresenceSummary()
        a.add(sub: "alice", role: .trader, sinceMillis: 2_000, topics: ["signals"])
        a.add(sub: "carol", role: .viewer, sinceMillis: 9_000, topics: [])
        var b = PresenceSummary()
        b.add(sub: "alice", role: .trader, sinceMillis: 1_000, topics: [])
        b.add(sub: "bob", role: .admin, sinceMillis: 1_500, topics: ["signals", "user"])
        var merged = a
        merged.merge(b)
        let all = merged.answer(topic: nil, gateways: 2)
        XCTAssertEqual(all["total_connections"], 4)
        XCTAssertEqual(all["gateways"], 2)
        let users = all["users"]?.arrayValue ?? []
        XCTAssertEqual(users.map { $0["sub"]?.stringValue }, ["alice", "bob", "carol"])
        XCTAssertEqual(users[0]["connections"], 2)
        XCTAssertEqual(users[0]["since"], "1970-01-01T00:00:01.000Z", "the earliest of its connections")
        let signals = merged.answer(topic: "signals", gateways: 2)
        XCTAssertEqual(signals["total_connections"], 2)
        XCTAssertEqual(signals["users"]?.arrayValue?.map { $0["connections"] }, [1, 1])
        XCTAssertEqual(merged.answer(topic: "risk", gateways: 2)["total_connections"], 0)
    }

    func testRevocationRefusesOlderTokensAndTokensWithoutIat() {
        let revocations = Revocations()
        let old = Identity(subject: "mallory", role: .trader, expiresAt: 9e9, issuedAt: 1_000)
        XCTAssertNil(revocations.refusal(for: old))
        XCTAssertTrue(revocations.record("mallory", millis: 1_000_500))
        XCTAssertFalse(revocations.record("mallory", millis: 1_000_000), "an earlier time changes nothing")
        XCTAssertEqual(revocations.refusal(for: old), AuthRefusal("token revoked"))
        var noIat = old
        noIat.issuedAt = nil
        XCTAssertEqual(revocations.check(.success(noIat)), .failure(AuthRefusal("token revoked")))
        var fresh = old
        fresh.issuedAt = 1_001
        XCTAssertEqual(revocations.check(.success(fresh)), .success(fresh))
        XCTAssertNil(revocations.refusal(for: Identity(subject: "alice", role: .trader, expiresAt: 9e9)))
        let changed = revocations.replace(with: ["mallory": 1_000_500, "eve": 5])
        XCTAssertEqual(changed, ["eve": 5], "only what is new or later")
    }

    func testTheSummaryCountsEveryKlinesTopicAsKlines() {
        let book = PresenceBook(maxPerUser: 10)
        _ = book.opened(key(0, 1), sub: "viewer", role: .viewer, sinceMillis: 1)
        _ = book.opened(key(1, 1), sub: "viewer", role: .viewer, sinceMillis: 2)
        for market in 0..<50 { book.subscribed(key(0, 1), topic: "klines:M\(market):1m") }
        book.subscribed(key(1, 1), topic: "klines:BTCUSDT:1m")
        book.subscribed(key(1, 1), topic: "signals")
        let summary = book.summary()
        XCTAssertEqual(Set(summary.topics.keys), ["klines", "signals"], "made-up klines topics add no rows")
        XCTAssertEqual(summary.topics["klines"], ["viewer": 2], "each connection once")
        XCTAssertEqual(summary.answer(topic: "klines", gateways: 1)["total_connections"], 2)
    }

    func testARefreshThatChangesTheRoleReachesTheSummary() {
        let book = PresenceBook(maxPerUser: 10)
        _ = book.opened(key(0, 1), sub: "alice", role: .trader, sinceMillis: 1)
        var version = book.version
        book.reauthenticated(key(0, 1), role: .trader)
        XCTAssertEqual(book.version, version, "the same role changes nothing")
        book.reauthenticated(key(0, 1), role: .viewer)
        XCTAssertGreaterThan(book.version, version)
        XCTAssertEqual(book.summary().users["alice"]?.role, .viewer)
        version = book.version
        book.reauthenticated(key(0, 9), role: .admin)  // never counted
        XCTAssertEqual(book.version, version)
    }

    func testARevocationBoundaryIsTheNextWholeSecondAndTokensFromItWork() {
        let before = PresenceMethods.revocationBoundary(millis: 1_000_500)
        XCTAssertEqual(before, 1_001_000)
        XCTAssertEqual(PresenceMethods.revocationBoundary(millis: 1_000_000), 1_001_000, "a whole second moves on too")
        let revocations = Revocations()
        revocations.record("mallory", millis: before)
        let minted = { (iat: Double) in Identity(subject: "mallory", role: .trader, expiresAt: 9e9, issuedAt: iat) }
        XCTAssertNotNil(revocations.refusal(for: minted(1_000)), "minted in the revocation's second")
        XCTAssertNil(revocations.refusal(for: minted(1_001)), "minted at the boundary")
    }
}
