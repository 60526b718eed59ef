import JSONCodec
import RedisClient
import TradingCore
import XCTest

@testable import Bedrock

/// The stored engine configuration on a real Redis: two changes at once, the caller's expected
/// version, and numbering.
final class EngineConfigStoreTests: RedisTestCase {
    private func store() throws -> EngineConfigStore {
        let ledger = try Bedrock.Ledger(settings: LedgerSettings(prefix: "p:", initialBalance: 10_000, commissionRate: 0.001))
        return EngineConfigStore(
            ledger: ledger, fileConfig: EngineConfiguration(strategies: [LiveStrategy(name: "pullback")], arbiter: .default))
    }

    func testAChangeStoredMeanwhileIsKeptAndTheLaterOneReappliedOnIt() throws {
        let store = try store()
        let other = try redis.connect()
        var attempts = 0
        let stored = try store.update(by: "a", on: conn) { current in
            attempts += 1
            if attempts == 1 {
                // Another administrator stores a version between this read and this write.
                _ = try store.update(by: "b", on: other) { try $0.applying(["arbiter": ["ml_weight": 0.1]]) }
            }
            return try current.applying(["arbiter": ["threshold": 70]])
        }
        XCTAssertEqual(attempts, 2, "the first write met the other change and was re-applied")
        XCTAssertEqual(stored.version, 2)
        XCTAssertEqual(stored.arbiter.mlWeight, 0.1, "b's change kept")
        XCTAssertEqual(stored.arbiter.threshold, 70)
        XCTAssertEqual(try store.read(on: conn).config, stored)
    }

    func testAnExpectedVersionThatIsNoLongerCurrentIsAConflict() throws {
        let store = try store()
        _ = try store.update(by: "a", on: conn) { try $0.applying(["arbiter": ["threshold": 70]]) }
        XCTAssertThrowsError(try store.update(by: "b", expected: 0, on: conn) { $0 }) { error in
            XCTAssertEqual((error as? APIError)?.code, .conflict)
        }
        XCTAssertEqual(try store.read(on: conn).config?.version, 1, "nothing stored")
    }

    func testNumbersAreNeverReused() throws {
        let store = try store()
        for t in [61.0, 62, 63] {
            _ = try store.update(by: "a", on: conn) { try $0.applying(["arbiter": ["threshold": .double(t)]]) }
        }
        _ = try conn.command(["DEL", "p:engine:config"]).checked()
        let next = try store.update(by: "a", on: conn) { try $0.applying(["arbiter": ["threshold": 64]]) }
        XCTAssertEqual(next.version, 4)
        let (total, page) = try store.versions(offset: 0, limit: 10, on: conn)
        XCTAssertEqual(total, 4)
        XCTAssertEqual(page.compactMap { $0["version"]?.intValue }, [4, 3, 2, 1])
    }
}
