import GatewayCore
import JSONCodec
import JWTAuth
import RedisClient
import XCTest

@testable import Bedrock

/// The event loop's estimate fast path (`MethodTable.answerInline`): same answers as the worker
/// path, only on a fresh shared snapshot, never for `signal_id`, and never after this gateway's
/// own write until a fresh read; plus the keep-warm refresh and the bearer-token parser.
final class EstimateFastPathTests: RedisTestCase {
    var ledger: Ledger!
    let table = MethodTable()
    /// The clock snapshot ages are measured on: moved by the tests, never slept on.
    let clock = ManualClock(monotonic: 1000)
    let byPrices: JSONObject = ["market": "ETH/USDT", "entry_price": "100", "stop_loss_price": "95"]

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Ledger(settings: LedgerSettings(prefix: "f:"))
        LedgerMethods.register(in: table, ledger: ledger, pool: RedisPool(address: redis.address), clock: clock)
    }

    private func call(_ method: Method, _ params: JSONObject, role: Role = .admin) -> Result<JSONValue, APIError> {
        table.answerWaiting(method, params, role: role)
    }

    private func inline(_ params: JSONObject, role: Role = .admin) -> Result<JSONValue, APIError>? {
        table.answerInline(.positionsEstimate, MethodCall(subject: "tester", role: role, params: params))
    }

    func testInlineMatchesWorkerAndStepsAsideWhenStale() throws {
        XCTAssertNil(inline(byPrices), "no snapshot read yet: the worker path reads one")
        let viaWorker = try call(.positionsEstimate, byPrices).get()
        XCTAssertEqual(try XCTUnwrap(inline(byPrices)).get(), viaWorker)
        XCTAssertNil(inline(["signal_id": "7"]), "a signal is read from Redis: worker path")
        guard case .failure(let bad)? = inline(["market": "ETH/USDT", "entry_price": "x", "stop_loss_price": "95"]) else {
            return XCTFail("bad parameters are refused at once")
        }
        XCTAssertEqual(bad.code, .badRequest)
        XCTAssertNotNil(inline(byPrices, role: .viewer), "VIEWER may estimate")

        // A write through this gateway invalidates: the next estimate goes to a worker and sees it.
        XCTAssertEqual(try call(.riskKillSwitch, ["enabled": true]).get()["kill_switch"], true)
        XCTAssertNil(inline(byPrices))
        XCTAssertEqual(try call(.positionsEstimate, byPrices).get()["allowed"], false)
        XCTAssertEqual(try XCTUnwrap(inline(byPrices)).get()["allowed"], false)

        // Older than 50 ms: the fast path steps aside.
        clock.advance(0.08)
        XCTAssertNil(inline(byPrices))
    }

    func testKeepWarmRefreshesInTheBackground() throws {
        let cache = SnapshotCache(maxAge: 0.2, clock: clock)
        nonisolated(unsafe) var reads = 0
        let lock = NSLock()
        let ledger = self.ledger!
        let pool = RedisPool(address: redis.address)
        cache.keepWarm {
            lock.lock(); reads += 1; lock.unlock()
            return try pool.with { try ledger.snapshot(on: $0) }
        }
        XCTAssertNil(cache.current())
        _ = try cache.snapshot(ledger, on: conn)
        let first = try XCTUnwrap(cache.current()).takenAt
        clock.advance(0.12)  // past half of maxAge: one background read starts
        XCTAssertEqual(try XCTUnwrap(cache.current()).takenAt, first, "the old one is still served meanwhile")
        let deadline = Date().addingTimeInterval(5)
        while cache.current().map({ $0.takenAt == first }) ?? true, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertGreaterThan(try XCTUnwrap(cache.current()).takenAt, first)
        lock.lock(); XCTAssertGreaterThanOrEqual(reads, 1); lock.unlock()
        cache.invalidate()
        XCTAssertNil(cache.current())
    }

    func testBearerTokenParsing() {
        XCTAssertEqual(HTTPExchange.bearerToken(in: "Bearer abc.def"), "abc.def")
        XCTAssertEqual(HTTPExchange.bearerToken(in: "bearer   abc "), "abc")
        XCTAssertEqual(HTTPExchange.bearerToken(in: "BEARER x"), "x")
        XCTAssertNil(HTTPExchange.bearerToken(in: "Bearer"))
        XCTAssertNil(HTTPExchange.bearerToken(in: "Bearer "))
        XCTAssertNil(HTTPExchange.bearerToken(in: "Basic abc"))
        XCTAssertNil(HTTPExchange.bearerToken(in: "Bearerx abc"))
        XCTAssertNil(HTTPExchange.bearerToken(in: "Bearer\tabc"))
        XCTAssertEqual(HTTPExchange.bearerToken(in: "Bearer tök"), "tök")
    }

    /// `Bearer ` followed by Unicode spaces only is no token, as `Bearer ` with ASCII blanks is
    /// (not an empty one, which the verifier would then refuse as something else). The HTTP fuzz
    /// target (Tests/Fuzz) checks this for every Authorization value.
    func testBearerFollowedByUnicodeSpacesOnlyIsNoToken() {
        XCTAssertNil(HTTPExchange.bearerToken(in: "Bearer \u{3000}"))
        XCTAssertNil(HTTPExchange.bearerToken(in: "Bearer \u{00A0} "))
        XCTAssertEqual(HTTPExchange.bearerToken(in: "Bearer \u{00A0}tök"), "tök")
    }
}
